import { describe, expect, it } from 'vitest';
import {
  applyBackendMacros,
  formatInterval,
  grafanaQuery,
  interpolateVariables,
  type VariableState,
} from '../helpers/grafana-macros.ts';

const multi = (selected: string[] | 'All', options: string[], extra: Partial<VariableState> = {}) =>
  ({ selected, options, multi: true, includeAll: true, ...extra }) satisfies VariableState;

describe('Grafana macro substitution (test helper)', () => {
  it('replaces $timeFilter with an absolute millisecond range', () => {
    expect(
      applyBackendMacros('WHERE $timeFilter', { from: 1000, to: 2000, intervalMs: 10_000 }),
    ).toBe('WHERE time >= 1000ms and time <= 2000ms');
  });

  it('replaces $__interval_ms before $__interval, and $interval too', () => {
    const q = 'time($__interval) $__interval_ms time($interval)';
    expect(applyBackendMacros(q, { from: 0, to: 1, intervalMs: 60_000 })).toBe(
      'time(1m) 60000 time(1m)',
    );
  });

  it('formats intervals like Grafana: largest whole unit, truncated', () => {
    expect(formatInterval(10_000)).toBe('10s');
    expect(formatInterval(90_000)).toBe('1m');
    expect(formatInterval(250)).toBe('250ms');
    expect(formatInterval(0)).toBe('1ms');
    expect(formatInterval(2 * 86_400_000)).toBe('2d');
  });

  it('renders a multi-value selection as an escaped alternation', () => {
    const q = '"version" =~ /^$version$/';
    const v = multi(['1.4.2', '1.4.3'], ['1.4.2', '1.4.3']);
    expect(interpolateVariables(q, { version: v })).toBe('"version" =~ /^(1\\.4\\.2|1\\.4\\.3)$/');
  });

  it('renders one selected value of a multi variable escaped, without parentheses', () => {
    expect(interpolateVariables('/^$role$/', { role: multi(['web.a'], ['web.a', 'db']) })).toBe(
      '/^web\\.a$/',
    );
  });

  it('expands All to every option, or inserts a custom allValue raw', () => {
    expect(interpolateVariables('/^$role$/', { role: multi('All', ['db', 'web']) })).toBe(
      '/^(db|web)$/',
    );
    expect(
      interpolateVariables('/^$role$/', { role: multi('All', ['db'], { allValue: '.*' }) }),
    ).toBe('/^.*$/');
  });

  it('inserts a plain single value raw outside a regex and escaped inside one', () => {
    const role: VariableState = { selected: ['a.b'], options: ['a.b'] };
    expect(interpolateVariables(`"role" = '$role' AND "x" =~ /^$role$/`, { role })).toBe(
      `"role" = 'a.b' AND "x" =~ /^a\\.b$/`,
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax under test
  it('supports ${var}, ${var:regex} and [[var]] and leaves unknown names alone', () => {
    const role = multi(['web'], ['web']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax under test
    expect(interpolateVariables('${role} ${role:regex} [[role]] $timeFilter', { role })).toBe(
      'web web web $timeFilter',
    );
  });

  it('runs both steps in order', () => {
    const q = `SELECT 1 FROM "m" WHERE "role" =~ /^$role$/ AND $timeFilter GROUP BY time($__interval)`;
    expect(
      grafanaQuery(q, {
        from: 5,
        to: 6,
        intervalMs: 10_000,
        variables: { role: multi(['a', 'b'], ['a', 'b']) },
      }),
    ).toBe(
      'SELECT 1 FROM "m" WHERE "role" =~ /^(a|b)$/ AND time >= 5ms and time <= 6ms GROUP BY time(10s)',
    );
  });
});
