import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { problemsOf } from './problems.ts';

describe('config › checks across keys', () => {
  it('refuses forward.users without forward.shared_key instead of serving Forward unauthenticated', () => {
    // User authentication is part of the shared-key handshake: without a shared key there is
    // no handshake at all, so every client was let in whatever users were listed.
    const problems = problemsOf(() =>
      parseConfig({ forward: { users: [{ username: 'agent', password: 'pw-9f3b2' }] } }),
    );
    expect(problems).toEqual([
      'forward.users: user authentication needs forward.shared_key (it is part of the shared-key handshake)',
    ]);
    expect(problems.join('\n')).not.toContain('pw-9f3b2');
  });

  it('refuses an http.token with whitespace at either end, without printing it', () => {
    for (const token of ['tok-7c1e\n', ' tok-7c1e', 'tok-7c1e\t']) {
      const problems = problemsOf(() => parseConfig({ http: { token } }));
      expect(problems).toEqual([
        'http.token: must not start or end with whitespace (HTTP drops it from headers, so a Bearer token could never match)',
      ]);
      expect(problems.join('\n')).not.toContain('tok-7c1e');
    }
    expect(parseConfig({ http: { token: 'tok 7c1e x' } }).config.http.token).toBe('tok 7c1e x');
  });

  it('accepts users together with a shared key, and a shared key alone', () => {
    expect(
      parseConfig({
        forward: { shared_key: 'k', users: [{ username: 'agent', password: 'pw' }] },
      }).config.forward.users,
    ).toHaveLength(1);
    expect(parseConfig({ forward: { shared_key: 'k' } }).config.forward.shared_key).toBe('k');
  });

  it('applies to users given through the environment too', () => {
    expect(
      problemsOf(() =>
        parseConfig({}, { env: { FLEETLINE_FORWARD_USERS: '[{"username":"a","password":"b"}]' } }),
      ),
    ).toEqual([
      expect.stringMatching(/^forward\.users: user authentication needs forward\.shared_key/),
    ]);
  });

  it('refuses grafana.push_annotations without grafana.url and grafana.token instead of quietly mirroring nothing', () => {
    expect(problemsOf(() => parseConfig({ grafana: { push_annotations: true } }))).toEqual([
      'grafana.push_annotations: needs grafana.url and grafana.token',
    ]);
    expect(
      problemsOf(() =>
        parseConfig({ grafana: { push_annotations: true, url: 'http://grafana:3000' } }),
      ),
    ).toEqual(['grafana.push_annotations: needs grafana.url and grafana.token']);
    expect(
      parseConfig({
        grafana: { push_annotations: true, url: 'http://grafana:3000', token: 'glsa_x' },
      }).config.grafana.push_annotations,
    ).toBe(true);
  });

  it('refuses an InfluxDB v1 username without a password (or the reverse) instead of sending no credentials', () => {
    const url = 'http://127.0.0.1:8086';
    expect(problemsOf(() => parseConfig({ influxdb: { url, username: 'writer' } }))).toEqual([
      'influxdb: username and password go together (v1 basic auth)',
    ]);
    const p = problemsOf(() => parseConfig({ influxdb: { url, password: 'pw-77c1' } }));
    expect(p).toEqual(['influxdb: username and password go together (v1 basic auth)']);
    expect(p.join('\n')).not.toContain('pw-77c1');
    expect(
      parseConfig({ influxdb: { url, username: 'writer', password: 'pw' } }).config.influxdb
        ?.username,
    ).toBe('writer');
  });

  it('checks http.asg_role_pattern at load, so a pattern that loads is one the service can use', () => {
    expect(problemsOf(() => parseConfig({ http: { asg_role_pattern: '(unclosed' } }))).toEqual([
      expect.stringMatching(/^http\.asg_role_pattern: not a valid regular expression/),
    ]);
    expect(problemsOf(() => parseConfig({ http: { asg_role_pattern: 'web-.*' } }))).toEqual([
      'http.asg_role_pattern: must have a named group (?<role>…)',
    ]);
    expect(
      parseConfig({ http: { asg_role_pattern: '(?<role>[a-z]+)-(?<version>.+)' } }).config.http
        .asg_role_pattern,
    ).toBe('(?<role>[a-z]+)-(?<version>.+)');
  });

  it('checks that rollup.retention outlasts interval + grace + lateness at load', () => {
    expect(problemsOf(() => parseConfig({ rollup: { interval: '1h', retention: '1h' } }))).toEqual([
      'rollup.retention: must be longer than rollup.interval + rollup.grace + rollup.lateness (1h + 2s + 2m)',
    ]);
    expect(
      parseConfig({ rollup: { interval: '1h', retention: '2h' } }).config.rollup.retention,
    ).toBe('2h');
  });
});
