import { describe, expect, it } from 'vitest';
import {
  type AuthResult,
  authenticate,
  refusalMessage,
  takeQueryPassword,
  tokenDigest,
} from '../../src/server/auth.ts';

const token = 's3cret-token-0123456789';
const digest = tokenDigest(token);
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('HTTP token check', () => {
  it('accepts the token as Bearer or as InfluxDB Token, in any case, with spaces around', () => {
    for (const header of [`Bearer ${token}`, `Token ${token}`, `  bearer   ${token}  `]) {
      expect(authenticate({ authorization: header }, 'header', digest).ok, header).toBe(true);
    }
    expect(authenticate({ authorization: `Token ${token}` }, 'header', digest)).toEqual({
      ok: true,
      scheme: 'token',
    });
  });

  it.each([
    'tökén-ünïcode-0123',
    // `à` is C3 A0 in UTF-8; read as Latin-1 the token ends in U+00A0, which trim() would eat.
    'secret-token-voilà',
  ])(
    'reads a Bearer/Token value as the UTF-8 bytes Go clients and curl send, or as Latin-1 (Node http): %s',
    (unicode) => {
      const d = tokenDigest(unicode);
      // Node hands header values over as Latin-1: UTF-8 bytes arrive as one char per byte.
      const utf8Bytes = Buffer.from(unicode, 'utf8').toString('latin1');
      for (const scheme of ['Bearer', 'Token']) {
        for (const sent of [utf8Bytes, unicode]) {
          expect(authenticate({ authorization: `${scheme} ${sent}` }, 'header', d).ok, sent).toBe(
            true,
          );
        }
      }
      expect(authenticate({ authorization: `Bearer ${utf8Bytes}X` }, 'header', d)).toMatchObject({
        ok: false,
        reason: 'wrong_token',
      });
    },
  );

  it('reads basic auth as UTF-8, and as Latin-1 when its bytes are not UTF-8 (Python requests)', () => {
    const unicode = 'tökén-ünïcode-0123';
    const d = tokenDigest(unicode);
    for (const encoding of ['utf8', 'latin1'] as const) {
      const header = `Basic ${Buffer.from(`u:${unicode}`, encoding).toString('base64')}`;
      expect(authenticate({ authorization: header }, 'header', d), encoding).toEqual({
        ok: true,
        scheme: 'basic',
      });
    }
    const wrong = `Basic ${Buffer.from(`u:${unicode}X`, 'latin1').toString('base64')}`;
    expect(authenticate({ authorization: wrong }, 'header', d)).toMatchObject({
      reason: 'wrong_token',
    });
  });

  it('refuses another token of the same length, a prefix, a longer one and an empty one', () => {
    const other = `${token.slice(0, -1)}X`;
    expect(other).toHaveLength(token.length);
    for (const given of [other, token.slice(0, -1), `${token}0`]) {
      expect(authenticate({ authorization: `Bearer ${given}` }, 'header', digest), given).toEqual({
        ok: false,
        reason: 'wrong_token',
        scheme: 'bearer',
      });
    }
    expect(authenticate({ authorization: 'Bearer ' }, 'header', digest)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each<[string, string, AuthResult]>([
    ['any username, the token as password', `telegraf:${token}`, { ok: true, scheme: 'basic' }],
    ['an empty username', `:${token}`, { ok: true, scheme: 'basic' }],
    ['a password that itself holds colons', `u:${token}:x`, failed('wrong_token', 'basic')],
    ['the token as username', `${token}:`, failed('wrong_token', 'basic')],
    ['the token as username and a password', `${token}:x`, failed('wrong_token', 'basic')],
    ['a wrong password', `admin:${token}X`, failed('wrong_token', 'basic')],
    ['no colon at all', token, failed('malformed', 'basic')],
  ])('basic auth with %s', (_title, userPass, want) => {
    expect(authenticate({ authorization: basic(userPass) }, 'header', digest)).toEqual(want);
  });

  it('accepts basic auth whose password contains colons when the token does', () => {
    const colons = 'a:b:c-0123';
    expect(
      authenticate({ authorization: basic(`u:${colons}`) }, 'header', tokenDigest(colons)),
    ).toEqual({ ok: true, scheme: 'basic' });
  });

  it.each([
    ['the bare token', token],
    ['an unknown scheme', `Digest username="x"`],
    ['basic with no credentials', 'Basic'],
    ['basic with text that is not base64', 'Basic not*base64!'],
  ])('calls %s malformed', (_title, header) => {
    expect(authenticate({ authorization: header }, 'header', digest)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses a request without credentials as missing', () => {
    expect(authenticate({}, 'header', digest)).toEqual({ ok: false, reason: 'missing' });
    expect(authenticate({ authorization: '  ' }, 'influx-v1', digest)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  describe('the p query parameter', () => {
    it('is the token on the InfluxDB v1 routes', () => {
      expect(authenticate({ queryPassword: token }, 'influx-v1', digest)).toEqual({
        ok: true,
        scheme: 'query',
      });
      expect(authenticate({ queryPassword: `${token}X` }, 'influx-v1', digest)).toEqual(
        failed('wrong_token', 'query'),
      );
    });

    it('is not accepted anywhere else, even when right', () => {
      for (const route of ['header', 'influx-v2'] as const) {
        expect(authenticate({ queryPassword: token }, route, digest), route).toEqual(
          failed('query_not_accepted', 'query'),
        );
      }
    });

    it('counts only when no Authorization header is sent (the header wins)', () => {
      expect(
        authenticate({ authorization: `Token ${token}`, queryPassword: 'y' }, 'influx-v1', digest),
      ).toEqual({ ok: true, scheme: 'token' });
      expect(
        authenticate(
          { authorization: 'Token nope-nope', queryPassword: token },
          'influx-v1',
          digest,
        ),
      ).toEqual(failed('wrong_token', 'token'));
      // A header-only route ignores p beside a right header.
      expect(
        authenticate({ authorization: basic(`x:${token}`), queryPassword: 'y' }, 'header', digest),
      ).toEqual({ ok: true, scheme: 'basic' });
    });
  });
});

describe('refusal messages', () => {
  it('name every accepted form, and p only where it is accepted', () => {
    const v1 = refusalMessage('wrong_token', 'influx-v1');
    expect(v1).toMatch(/wrong token/);
    expect(v1).toMatch(/Bearer <token>/);
    expect(v1).toMatch(/Token <token>/);
    expect(v1).toMatch(/basic auth/i);
    expect(v1).toMatch(/`p`/);
    const other = refusalMessage('missing', 'header');
    expect(other).toMatch(/Bearer <token>/);
    expect(other).toMatch(/basic auth/i);
    expect(other).not.toMatch(/`p`/);
    expect(refusalMessage('query_not_accepted', 'influx-v2')).toMatch(
      /`p` query parameter is accepted only on POST \/write and POST \/query/,
    );
  });
});

describe('takeQueryPassword', () => {
  it.each<[string, string, string | undefined]>([
    ['/write', '/write', undefined],
    ['/write?db=a&rp=autogen&precision=s', '/write?db=a&rp=autogen&precision=s', undefined],
    ['/write?db=a&u=me&p=s3cr%3Dt', '/write?db=a&u=me&p=[redacted]', 's3cr=t'],
    ['/query?p=a+b&q=CREATE', '/query?p=[redacted]&q=CREATE', 'a b'],
    ['/write?%70=encoded-key&db=a', '/write?%70=[redacted]&db=a', 'encoded-key'],
    ['/write?p=first&p=second', '/write?p=[redacted]&p=[redacted]', 'first'],
    ['/write?p=%zz-bad-escape', '/write?p=[redacted]', '%zz-bad-escape'],
    ['/write?p=', '/write?p=', undefined],
    ['/write?p&db=a', '/write?p&db=a', undefined],
    ['/write?up=1&pp=2', '/write?up=1&pp=2', undefined],
    // fastify's router starts the query string at the first `?` or `#`: a `p` after a raw `#`
    // is a query parameter to it, so it is one here too (taken and redacted).
    ['/write#&p=after-hash', '/write#&p=[redacted]', 'after-hash'],
    ['/write#x&p=after-hash?y', '/write#x&p=[redacted]', 'after-hash?y'],
    ['/write?db=a&p=tok#frag', '/write?db=a&p=[redacted]', 'tok#frag'],
    // A `p` behind a second `?` or a `#` is no query parameter to fastify: redacted, not taken.
    ['/write#x?p=behind-question', '/write#x?p=[redacted]', undefined],
    ['/write?#%70=behind-hash&u=me', '/write?#%70=[redacted]&u=me', undefined],
    ['/write?db=a?P=upper&up=1', '/write?db=a?P=upper&up=1', undefined],
  ])('%s', (url, redacted, password) => {
    expect(takeQueryPassword(url)).toEqual(
      password === undefined ? { url: redacted } : { url: redacted, password },
    );
  });
});

function failed(reason: string, scheme?: string): AuthResult {
  return { ok: false, reason, ...(scheme ? { scheme } : {}) } as AuthResult;
}
