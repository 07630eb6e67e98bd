/**
 * One request body of line protocol: the lines while it is being filled, then (`seal`) their
 * UTF-8 bytes in one Buffer, newline-separated, with where each line ends; and each line's
 * measurement as runs.
 *
 * Why: the writer used to keep every line string of a delivery until its requests were
 * acknowledged (so each scavenge meanwhile copied them) and copied every byte twice per request
 * (`slice().join()`, `Buffer.from`). Now the line strings die when the body is sealed, just
 * before it is sent; the bytes live outside the JS heap; a retry or a bisected half is a
 * `subarray` of them; and a line becomes a string again only when it is dead-lettered.
 * (Writing each line into a growing Buffer as it comes was measured slower: a `buf.write` call
 * per line costs more than one `join` and one `Buffer.from` per body.) A line may hold a raw
 * newline (inside a string field), so lines are found by their recorded ends, never by splitting.
 */

/** A run of a body's lines: indexes `lo` (inclusive) to `hi` (exclusive). */
export interface Span {
  lo: number;
  hi: number;
}

/**
 * A class rather than a closure per body: every body then has the same hidden class, so the
 * writer's per-line calls stay monomorphic (object literals with getters got a map per body,
 * which made them megamorphic and the writer measurably slower).
 */
export class LineBody {
  private lines: string[] = [];
  private buf: Buffer | undefined;
  /**
   * ends[i]: offset just past line i, where its newline is: in UTF-16 units until sealed (the
   * same as bytes when the text is ASCII), then in bytes.
   */
  private ends: number[] = [];
  private chars = 0;
  /** Measurements as runs: lines [runEnds[k-1] ?? 0, runEnds[k]) have runNames[k]. */
  private readonly runEnds: number[] = [];
  private readonly runNames: string[] = [];

  /** Lines so far. */
  get count(): number {
    return this.ends.length;
  }

  /** Appends a line of measurement `measurement`; only before `seal`. */
  push(line: string, measurement: string): void {
    if (this.buf !== undefined) throw new Error('line body already sealed');
    this.lines.push(line);
    this.chars += line.length;
    this.ends.push(this.chars++);
    const last = this.runNames.length - 1;
    if (last >= 0 && this.runNames[last] === measurement) this.runEnds[last] = this.ends.length;
    else {
      this.runNames.push(measurement);
      this.runEnds.push(this.ends.length);
    }
  }

  /** Turns the lines into bytes and lets go of the strings; later calls do nothing. */
  seal(): Buffer {
    if (this.buf !== undefined) return this.buf;
    const text = this.lines.join('\n');
    const buf = Buffer.from(text, 'utf8');
    if (buf.length !== text.length) {
      // Some line is not ASCII: count bytes instead of UTF-16 units.
      let at = 0;
      for (let i = 0; i < this.lines.length; i++) {
        at += Buffer.byteLength(this.lines[i]!, 'utf8');
        this.ends[i] = at++;
      }
    }
    this.buf = buf;
    this.lines = [];
    return buf;
  }

  /** The bytes of lines [lo, hi) with their separating newlines (seals the body). */
  bytes(span: Span): Buffer {
    return this.seal().subarray(this.start(span.lo), this.ends[span.hi - 1]);
  }

  /** Line `i` as text, for the dead-letter table (seals the body). */
  line(i: number): string {
    return this.seal().toString('utf8', this.start(i), this.ends[i]);
  }

  measurement(i: number): string {
    let k = 0;
    while (this.runEnds[k]! <= i) k++;
    return this.runNames[k]!;
  }

  /** Lines of [lo, hi) per measurement, leaving out those `skip` holds. */
  countByMeasurement(span: Span, skip: ReadonlySet<number>): Map<string, number> {
    const counts = new Map<string, number>();
    let runStart = 0;
    for (let k = 0; k < this.runEnds.length && runStart < span.hi; k++) {
      const runEnd = this.runEnds[k]!;
      const lo = Math.max(span.lo, runStart);
      const hi = Math.min(span.hi, runEnd);
      runStart = runEnd;
      if (hi <= lo) continue;
      let n = hi - lo;
      if (skip.size > 0) for (const i of skip) if (i >= lo && i < hi) n--;
      const name = this.runNames[k]!;
      if (n > 0) counts.set(name, (counts.get(name) ?? 0) + n);
    }
    return counts;
  }

  private start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]! + 1;
  }
}
