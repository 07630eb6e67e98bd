/**
 * The shared-key handshake of the Forward protocol (HELO → PING → PONG), as pure functions.
 *
 * The server sends HELO with a per-connection random `nonce` and user-auth salt `auth`, both as
 * msgpack *bin* (fluent-logger computes the password digest only when `auth` is a Buffer, and
 * random bytes in a str get mangled by JS clients). The client answers
 * `["PING", hostname, salt, sha512_hex(salt‖hostname‖nonce‖key), username, password_digest]`;
 * we recompute the digest over the raw bytes (the salt may be hex text or, from Fluent Bit,
 * random bytes inside a str), compare in constant time, and answer PONG with our own digest
 * so the client can authenticate us too. On failure the PONG carries the reason.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import type { AuthFailureCode } from './errors.ts';
import { Kind, MsgpackFormatError, MsgpackReader } from './msgpack-reader.ts';

type Bytes = Uint8Array | string;

export function sha512Hex(...parts: Bytes[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Digest the client proves it knows the key with (PING). */
export function pingDigest(salt: Bytes, clientHostname: Bytes, nonce: Bytes, sharedKey: string) {
  return sha512Hex(salt, clientHostname, nonce, sharedKey);
}

/** Digest the server proves it knows the key with (PONG): client's salt, server's hostname. */
export function pongDigest(salt: Bytes, serverHostname: string, nonce: Bytes, sharedKey: string) {
  return sha512Hex(salt, serverHostname, nonce, sharedKey);
}

export function passwordDigest(authSalt: Bytes, username: string, password: string): string {
  return sha512Hex(authSalt, username, password);
}

/** Compares two digests without leaking where they differ. */
export function digestsEqual(expected: string, got: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(got, 'latin1');
  // timingSafeEqual needs equal lengths; compare against ourselves to keep the time flat.
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

export interface HandshakeSecrets {
  selfHostname: string;
  sharedKey: string;
  users: readonly { username: string; password: string }[];
}

export interface HandshakeState {
  nonce: Uint8Array;
  authSalt: Uint8Array;
}

export function encodeHelo(state: HandshakeState, keepalive = true): Uint8Array {
  return encode(['HELO', { nonce: state.nonce, auth: state.authSalt, keepalive }]);
}

export function encodePong(ok: boolean, reason: string, hostname: string, digest: string) {
  return encode(['PONG', ok, reason, hostname, digest]);
}

export type PingResult =
  | { ok: true; clientHostname: string; pong: Uint8Array }
  | { ok: false; code: AuthFailureCode; reason: string; pong: Uint8Array };

const failure = (code: AuthFailureCode, reason: string): PingResult => ({
  ok: false,
  code,
  reason,
  pong: encodePong(false, reason, '', ''),
});

/** Checks one complete PING frame `bytes[start..end)` and builds the PONG to send. */
export function checkPing(
  bytes: Uint8Array,
  start: number,
  end: number,
  state: HandshakeState,
  secrets: HandshakeSecrets,
): PingResult {
  let fields: (Uint8Array | null)[];
  try {
    fields = readPing(new MsgpackReader(bytes, start, end));
  } catch (err) {
    if (err instanceof MsgpackFormatError) return failure('invalid_ping', 'invalid ping message');
    throw err;
  }
  if (fields.length !== 6 || text(fields[0]) !== 'PING') {
    return failure('invalid_ping', 'invalid ping message');
  }
  const hostname = text(fields[1]);
  const salt = fields[2];
  const digest = text(fields[3]);
  if (hostname === undefined || salt === null || salt === undefined || digest === undefined) {
    return failure('invalid_ping', 'invalid ping message');
  }
  if (hostname === secrets.selfHostname) {
    return failure(
      'same_hostname',
      `client hostname ${JSON.stringify(hostname)} is the server's own self_hostname`,
    );
  }
  // Hash the hostname as received: re-encoding text could change non-UTF-8 bytes.
  const expected = pingDigest(salt, fields[1]!, state.nonce, secrets.sharedKey);
  if (!digestsEqual(expected, digest)) return failure('shared_key_mismatch', 'shared_key mismatch');
  if (secrets.users.length > 0) {
    const username = text(fields[4]) ?? '';
    const password = text(fields[5]) ?? '';
    let matched = false;
    for (const u of secrets.users) {
      const want = passwordDigest(state.authSalt, u.username, u.password);
      // Every user is checked so the time does not reveal which usernames exist.
      if (digestsEqual(want, password) && u.username === username) matched = true;
    }
    if (!matched) return failure('user_mismatch', 'username/password mismatch');
  }
  return {
    ok: true,
    clientHostname: hostname,
    pong: encodePong(
      true,
      '',
      secrets.selfHostname,
      pongDigest(salt, secrets.selfHostname, state.nonce, secrets.sharedKey),
    ),
  };
}

/** PING fields as raw bytes (str and bin alike); nil → null; other types → empty marker. */
function readPing(r: MsgpackReader): (Uint8Array | null)[] {
  const n = r.tryArrayHeader();
  if (n < 0 || n > 16) return [];
  const out: (Uint8Array | null)[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.peekKind();
    if (kind === Kind.Nil) {
      r.skip();
      out.push(null);
      continue;
    }
    const start = r.tryRawBytes();
    if (start >= 0) out.push(r.buf.subarray(start, r.lastEnd));
    else {
      r.skip();
      out.push(new Uint8Array(0));
    }
  }
  return out;
}

function text(b: Uint8Array | null | undefined): string | undefined {
  if (b === undefined) return undefined;
  if (b === null) return undefined;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
