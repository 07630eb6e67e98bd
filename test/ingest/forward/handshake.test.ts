import { readFileSync } from 'node:fs';
import { decodeMulti } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  checkPing,
  digestsEqual,
  encodeHelo,
  type HandshakeSecrets,
  passwordDigest,
  pingDigest,
  pongDigest,
} from '../../../src/ingest/forward/handshake.ts';
import { concat, pack } from './forward-harness.ts';

const fixture = (p: string) =>
  readFileSync(new URL(`../../fixtures/forward/${p}`, import.meta.url));
const objects = (p: string) => [...decodeMulti(fixture(p))] as unknown[];
const msgpackOf = (p: string, index: number) => pack(objects(p)[index]);

const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => from + i);

describe('handshake › digests', () => {
  it('matches the reference test vectors for PING, PONG and password digests', () => {
    const salt = '0123456789abcdef0123456789abcdef';
    expect(pingDigest(salt, 'client.local', bytes(0, 16), 'secret')).toBe(
      'a54fe9112dac486b14cd266c34b8e43ff15364c6ab2b554be73e2745cd5b8bf054018aea3a3a724eedef9f13a4ea275d7cfbb16ec58c7159f2a262075d9be592',
    );
    expect(pongDigest(salt, 'server.local', bytes(0, 16), 'secret')).toBe(
      'ae64607f4e21f2f9522035385b6834f3f757999334e1afe8ed95719ff5eafd31ffcea9aaef407bfd8c6caebd09905aa242f4f4a0846a3494f4287c292d0525e2',
    );
    expect(passwordDigest(bytes(0x10, 16), 'alice', 'pw')).toBe(
      '175443d1726b2836999b8b7b54c1fcf0a2ec1071f20fbec9f6e0a7594cf70f208e7ed315db82d7e4f45981d04990e9b9b46ea8f69444a5cf5e25601d72aa83e5',
    );
  });

  it("verifies fluentd 1.14.4's recorded PING digest against the recorded HELO nonce", () => {
    const [, hostname, salt, digest] = objects('cap-security-helo/conn001.c2s.bin')[0] as string[];
    expect(pingDigest(salt!, hostname!, 'NONCE-0123456789abcdef', 'secret123')).toBe(digest);
    expect(pingDigest(salt!, hostname!, 'NONCE-0123456789abcdef', 'wrong')).not.toBe(digest);
  });

  it('compares digests in constant time and rejects different lengths', () => {
    expect(digestsEqual('abc', 'abc')).toBe(true);
    expect(digestsEqual('abc', 'abd')).toBe(false);
    expect(digestsEqual('abc', 'abcd')).toBe(false);
  });
});

describe('handshake › checkPing on the recorded fluentd exchange', () => {
  const helo = objects('cap-relay-security-ack/conn002.s2c.bin')[0] as [
    string,
    { nonce: Uint8Array; auth: Uint8Array },
  ];
  const state = { nonce: helo[1].nonce, authSalt: helo[1].auth };
  const ping = msgpackOf('cap-relay-security-ack/conn002.c2s.bin', 0);

  it('accepts the PING and answers the very PONG bytes real in_forward sent', () => {
    const r = checkPing(ping, 0, ping.length, state, {
      selfHostname: 'recv',
      sharedKey: 'secret123',
      users: [],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.clientHostname).toBe('send');
    expect(Buffer.from(r.pong)).toEqual(
      Buffer.from(msgpackOf('cap-relay-security-ack/conn002.s2c.bin', 1)),
    );
  });

  it("checks the client's password digest over the HELO auth salt", () => {
    const fields = objects('cap-relay-security-ack/conn002.c2s.bin')[0] as string[];
    expect(passwordDigest(state.authSalt, '', '')).toBe(fields[5]);
  });

  it('answers ["PONG", false, "shared_key mismatch", "", ""] like fluentd for a wrong key', () => {
    const r = checkPing(ping, 0, ping.length, state, {
      selfHostname: 'recv',
      sharedKey: 'other',
      users: [],
    });
    expect(r).toMatchObject({ ok: false, code: 'shared_key_mismatch' });
    expect(Buffer.from(r.pong)).toEqual(
      Buffer.from(msgpackOf('cap-relay-security-wrongkey/conn001.s2c.bin', 1)),
    );
  });
});

describe('handshake › checkPing', () => {
  const state = { nonce: bytes(0, 16), authSalt: bytes(0x10, 16) };
  const secrets: HandshakeSecrets = { selfHostname: 'fleetline', sharedKey: 'k', users: [] };
  const salt = 'aa'.repeat(16);
  const ping = (over: Record<number, unknown> = {}) => {
    const base = ['PING', 'client', salt, pingDigest(salt, 'client', state.nonce, 'k'), '', ''];
    for (const [i, v] of Object.entries(over)) base[Number(i)] = v as string;
    return pack(base);
  };
  const check = (b: Uint8Array, s = secrets) => checkPing(b, 0, b.length, state, s);

  it('accepts a PING whose salt is raw non-UTF-8 bytes in a str (Fluent Bit)', () => {
    const raw = bytes(0xf0, 16);
    const digest = pingDigest(raw, 'fb', state.nonce, 'k');
    const frame = concat(
      [0x96],
      pack('PING'),
      pack('fb'),
      [0xa0 | 16],
      raw,
      pack(digest),
      pack(''),
      pack(''),
    );
    expect(check(frame)).toMatchObject({ ok: true, clientHostname: 'fb' });
  });

  it('accepts nil username and password (fluent-logger without users)', () => {
    expect(check(ping({ 4: null, 5: null }))).toMatchObject({ ok: true });
  });

  it.each([
    ['a message with 5 elements', pack(['PING', 'c', salt, 'd', '']), 'invalid_ping'],
    ['a message that is not PING', pack(['PONG', 'c', salt, 'd', '', '']), 'invalid_ping'],
    ['a Forward request sent before the handshake', pack(['tag', 1, { a: 1 }]), 'invalid_ping'],
    ['garbage bytes', Buffer.from([0xc1, 0xc1]), 'invalid_ping'],
  ])('refuses %s', (_n, frame, code) => {
    const r = check(frame);
    expect(r).toMatchObject({ ok: false, code });
    expect(objects0(r.pong)).toEqual(['PONG', false, 'invalid ping message', '', '']);
  });

  it("refuses a client that claims the server's own hostname", () => {
    const d = pingDigest(salt, 'fleetline', state.nonce, 'k');
    expect(check(pack(['PING', 'fleetline', salt, d, '', '']))).toMatchObject({
      ok: false,
      code: 'same_hostname',
    });
  });

  it('checks username and password when users are configured', () => {
    const s = { ...secrets, users: [{ username: 'alice', password: 'pw' }] };
    const good = passwordDigest(state.authSalt, 'alice', 'pw');
    expect(check(ping({ 4: 'alice', 5: good }), s)).toMatchObject({ ok: true });
    const bad = passwordDigest(state.authSalt, 'alice', 'nope');
    const r = check(ping({ 4: 'alice', 5: bad }), s);
    expect(r).toMatchObject({ ok: false, code: 'user_mismatch' });
    expect(objects0(r.pong)).toEqual(['PONG', false, 'username/password mismatch', '', '']);
  });

  it('sends HELO with nonce and auth as bin', () => {
    const helo = encodeHelo(state);
    expect(objects0(helo)).toEqual([
      'HELO',
      { nonce: state.nonce, auth: state.authSalt, keepalive: true },
    ]);
    expect(Buffer.from(helo).includes(Buffer.from([0xc4, 16]))).toBe(true);
  });
});

function objects0(b: Uint8Array): unknown {
  return [...decodeMulti(b)][0];
}
