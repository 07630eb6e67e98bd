/**
 * Errors of the Forward input, with stable codes.
 *
 * A `ForwardDecodeError` answers the connection handler's question: can this connection keep
 * going (`canContinue`), or is the byte stream no longer trustworthy and must be closed?
 * Nothing here is retryable by fleetline itself; the *client* retries whatever was not acked.
 */

/** Why a frame (one Forward request) was rejected. Used as the `reason` metric label. */
export type FrameRejectCode =
  | 'malformed_msgpack'
  | 'frame_too_large'
  | 'not_an_array'
  | 'bad_shape'
  | 'bad_tag'
  | 'bad_entries'
  | 'decompressed_too_large'
  | 'too_many_entries'
  | 'bad_gzip'
  | 'unsupported_compression'
  | 'malformed_json'
  | 'truncated'
  | 'internal_error';

/** Why a single event inside an otherwise good frame was skipped. */
/**
 * Why an event was skipped (and counted) while the rest of its request was kept: resending it
 * would never make it valid. The spool refuses `proto_key` (a record with a `__proto__` key at
 * any depth: a reader assigning it would replace an object's prototype) and `too_deep` (a JSON
 * record nesting deeper than the spool stores; msgpack records stop far earlier, at the
 * reader's own depth limit).
 */
export type InvalidEventCode = 'bad_time' | 'bad_record' | 'bad_entry' | 'proto_key' | 'too_deep';

export class ForwardDecodeError extends Error {
  constructor(
    readonly code: FrameRejectCode,
    message: string,
    /** False when the stream position is lost (parse error) or the client must be stopped. */
    readonly canContinue: boolean,
  ) {
    super(message);
    this.name = 'ForwardDecodeError';
  }
}

/** Why a shared-key handshake failed; the text is sent to the client in `PONG false`. */
export type AuthFailureCode =
  | 'invalid_ping'
  | 'shared_key_mismatch'
  | 'user_mismatch'
  | 'same_hostname'
  | 'handshake_timeout';
