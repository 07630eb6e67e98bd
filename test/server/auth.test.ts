import { describe, expect, it } from 'vitest';
import { tokenMatches } from '../../src/server/auth.ts';

describe('HTTP token check', () => {
  const token = 's3cret-token-0123456789';

  it('accepts the token as Bearer or as InfluxDB Token, in any case, with spaces around', () => {
    expect(tokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(tokenMatches(`Token ${token}`, token)).toBe(true);
    expect(tokenMatches(`  bearer   ${token}  `, token)).toBe(true);
  });

  it('refuses another token of the same length, a prefix, a longer one and no token', () => {
    const other = `${token.slice(0, -1)}X`;
    expect(other).toHaveLength(token.length);
    for (const given of [other, token.slice(0, -1), `${token}0`, '']) {
      expect(tokenMatches(`Bearer ${given}`, token), given).toBe(false);
    }
    expect(tokenMatches(undefined, token)).toBe(false);
    expect(tokenMatches(token, token)).toBe(false);
    expect(tokenMatches(`Basic ${token}`, token)).toBe(false);
  });
});
