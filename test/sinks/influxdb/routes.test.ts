import { describe, expect, it } from 'vitest';
import { compileGlob, compileRoutes } from '../../../src/sinks/influxdb/routes.ts';

describe('schema routes (fluentd tag globs)', () => {
  it.each([
    ['app.*', 'app.web', true],
    ['app.*', 'app', false],
    ['app.*', 'app.web.access', false],
    ['app.**', 'app', true],
    ['app.**', 'app.web.access', true],
    ['app.**', 'application', false],
    ['**.access', 'access', true],
    ['**.access', 'a.b.access', true],
    ['**.access', 'a.b.accessx', false],
    ['a.**.z', 'a.z', true],
    ['a.**.z', 'a.b.c.z', true],
    ['app.web*', 'app.web01', true],
    ['app.web*', 'app.web.x', false],
    ['{nginx,apache}.access', 'apache.access', true],
    ['{nginx,apache}.access', 'haproxy.access', false],
    ['app.{web.*,db}', 'app.web.x', true],
    ['app.{web.*,db}', 'app.db', true],
    ['app.{web.*,db}', 'app.web', false],
    ['**', 'anything.at.all', true],
    ['a+b.(c)', 'a+b.(c)', true],
  ])('%s matches %s: %s', (glob, tag, expected) => {
    expect(compileGlob(glob).test(tag)).toBe(expected);
  });

  it('takes the first matching route and falls back to the tag itself', () => {
    const route = compileRoutes([
      { match: 'app.access.**', measurement: 'access' },
      { match: 'app.**', measurement: 'app_logs' },
    ]);
    expect(route('app.access.web')).toBe('access');
    expect(route('app.worker')).toBe('app_logs');
    expect(route('syslog.kern')).toBe('syslog.kern');
    expect(route('app.access.web')).toBe('access');
  });
});
