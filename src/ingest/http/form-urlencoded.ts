/**
 * `application/x-www-form-urlencoded` decoded to *bytes* per parameter. `URLSearchParams`
 * would turn every value into a UTF-8 string and mangle in_http's `msgpack=` payloads, which
 * are arbitrary bytes percent-encoded.
 */
export function decodeForm(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x26 /* & */, start);
    if (end < 0) end = body.length;
    if (end > start) {
      const eq = body.indexOf(0x3d /* = */, start);
      const split = eq >= 0 && eq < end ? eq : end;
      const name = percentDecode(body.subarray(start, split)).toString('utf8');
      const value = split < end ? percentDecode(body.subarray(split + 1, end)) : Buffer.alloc(0);
      out.set(name, value);
    }
    start = end + 1;
  }
  return out;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function percentDecode(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x2b /* + */) out[j++] = 0x20;
    else if (c === 0x25 /* % */ && i + 2 < bytes.length) {
      const hi = hex(bytes[i + 1]!);
      const lo = hex(bytes[i + 2]!);
      if (hi < 0 || lo < 0) out[j++] = c;
      else {
        out[j++] = (hi << 4) | lo;
        i += 2;
      }
    } else out[j++] = c;
  }
  return out.subarray(0, j);
}
