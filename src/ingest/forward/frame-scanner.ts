/**
 * Finds where one msgpack value (one Forward request) ends in a growing byte buffer, without
 * building the value.
 *
 * The Forward stream has no length prefix, so the connection must know when a whole request
 * has arrived before decoding it. The scanner walks type headers only (a 4 MiB str32 entries
 * blob costs one step) and keeps its position and an explicit stack of "values still owed"
 * between calls, so a frame arriving in many TCP reads is scanned once in total, not once per
 * read. It also enforces the frame-size and nesting limits before the bytes are buffered in
 * full, which is what keeps a hostile client from making us hold a 4 GiB frame.
 *
 *   buf: [ consumed … | frameStart ─── pos (scanned so far) ── end (bytes received) ]
 *   owed: [1, 3, 2]  ← values still to read at each open nesting level (top = innermost)
 */
import { ForwardDecodeError } from './errors.ts';

export interface FrameScanner {
  /** Start a new frame at `offset` (call after a frame was consumed or the buffer moved). */
  reset(offset: number): void;
  /**
   * Continues scanning `buf[..end)`. Returns the offset one past the end of the frame, or -1
   * when more bytes are needed. Throws `ForwardDecodeError` (malformed, too large, too deep).
   */
  scan(buf: Uint8Array, end: number): number;
  /** Where the current frame started. */
  frameStart(): number;
}

const MAX_DEPTH = 64;

export function createFrameScanner(
  maxFrameBytes: number,
  limitName = 'max_frame_bytes',
): FrameScanner {
  let start = 0;
  let pos = 0;
  const owed: number[] = [1];

  const tooLarge = (size: number) =>
    new ForwardDecodeError(
      'frame_too_large',
      `frame of at least ${size} bytes exceeds ${limitName} ${maxFrameBytes}`,
      false,
    );

  return {
    reset(offset) {
      start = offset;
      pos = offset;
      owed.length = 1;
      owed[0] = 1;
    },
    frameStart: () => start,
    scan(buf, end) {
      while (owed.length > 0) {
        if (pos >= end) return -1;
        const b = buf[pos]!;
        let header = 1;
        let body = 0;
        let children = 0;
        if (b <= 0x7f || b >= 0xe0) {
          // positive/negative fixint
        } else if (b <= 0x8f) {
          children = (b & 0x0f) * 2;
        } else if (b <= 0x9f) {
          children = b & 0x0f;
        } else if (b <= 0xbf) {
          body = b & 0x1f;
        } else {
          const need = fixedHeader(b);
          if (need < 0) {
            throw new ForwardDecodeError(
              'malformed_msgpack',
              `invalid msgpack type byte 0x${b.toString(16)} at offset ${pos - start}`,
              false,
            );
          }
          header = need;
          if (pos + header > end) return -1;
          const view = new DataView(buf.buffer, buf.byteOffset + pos + 1);
          switch (b) {
            case 0xc4:
            case 0xd9:
              body = buf[pos + 1]!;
              break;
            case 0xc5:
            case 0xda:
              body = view.getUint16(0);
              break;
            case 0xc6:
            case 0xdb:
              body = view.getUint32(0);
              break;
            case 0xc7:
              body = buf[pos + 1]!;
              break;
            case 0xc8:
              body = view.getUint16(0);
              break;
            case 0xc9:
              body = view.getUint32(0);
              break;
            case 0xdc:
              children = view.getUint16(0);
              break;
            case 0xdd:
              children = view.getUint32(0);
              break;
            case 0xde:
              children = view.getUint16(0) * 2;
              break;
            case 0xdf:
              children = view.getUint32(0) * 2;
              break;
          }
        }
        const next = pos + header + body;
        // Every child takes at least one byte, so a container that claims more children than
        // the limit allows is rejected before we wait for them.
        if (next - start + children > maxFrameBytes) throw tooLarge(next - start + children);
        if (next > end) return -1;
        pos = next;
        const top = owed.length - 1;
        owed[top]!--;
        if (children > 0) {
          if (owed.length >= MAX_DEPTH) {
            throw new ForwardDecodeError(
              'malformed_msgpack',
              `msgpack nesting deeper than ${MAX_DEPTH}`,
              false,
            );
          }
          owed.push(children);
        }
        while (owed.length > 0 && owed[owed.length - 1] === 0) owed.pop();
      }
      return pos;
    },
  };
}

/** Header size (type byte included) of the 0xc0..0xdf types; -1 for the never-used 0xc1. */
function fixedHeader(b: number): number {
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return 1;
    case 0xc4:
    case 0xd9:
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xc5:
    case 0xda:
    case 0xcd:
    case 0xd1:
    case 0xdc:
    case 0xde:
      return 3;
    case 0xc6:
    case 0xdb:
    case 0xdd:
    case 0xdf:
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    case 0xc7:
      return 3;
    case 0xc8:
      return 4;
    case 0xc9:
      return 6;
    case 0xd4:
      return 3;
    case 0xd5:
      return 4;
    case 0xd6:
      return 6;
    case 0xd7:
      return 10;
    case 0xd8:
      return 18;
    default:
      return -1;
  }
}
