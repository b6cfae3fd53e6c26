// Turns one container output stream (stdout or stderr, never both: the level is set
// by stream) into lines, incrementally, as the demultiplexed frames arrive. Pure: no I/O.
//
// It mirrors Go's bufio.ScanLines, which the Go original used, so the relayed lines are the
// same: split at '\n', one '\r' before it dropped, empty lines kept, a last line without
// '\n' emitted at the end. (better) Where the Go scanner gave up on a line over 64 KiB and
// stopped relaying for good, a long line is emitted in pieces of at most `maxLineBytes`, so
// the buffered bytes stay bounded (the 10 MB budget) and nothing after it is lost.

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  readonly maxLineBytes: number;
  /** Bytes of the line in progress, kept as a chunk list so a long line is not re-copied per frame. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** True once part of the current line went out early because it was too long. */
  #continued = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    // Below 4 bytes a piece could not hold one whole UTF-8 character.
    if (!Number.isInteger(max) || max < 4) throw new RangeError(`maxLineBytes must be an integer >= 4, got ${max}`);
    this.maxLineBytes = max;
  }

  /** Bytes held for the line in progress: never more than maxLineBytes once push returns. */
  get bufferedBytes(): number { return this.#pendingBytes; }

  /** Feeds one frame; returns the lines it completed (without '\n' or a '\r' before it). */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    this.feed(chunk, 0, chunk.length, (bytes, start, end) => lines.push(bytes.subarray(start, end)));
    return lines;
  }

  /**
   * Hands each completed line to `onLine` as a byte range,
   * valid only during the call. A line inside `chunk[start..end)` is passed as a range of the
   * chunk itself, so the common case (short lines) allocates nothing.
   */
  feed(chunk: Buffer, start: number, end: number, onLine: (bytes: Buffer, start: number, end: number) => void): void {
    let pos = start;
    while (pos < end) {
      const nl = indexOfLf(chunk, pos, end);
      if (nl === -1) break;
      if (this.#pendingBytes > 0 || this.#continued) {
        for (const line of this.#endLineOf(this.#take(chunk.subarray(pos, nl)))) onLine(line, 0, line.length);
      } else {
        let lineEnd = nl;
        if (lineEnd > pos && chunk[lineEnd - 1] === CR) lineEnd--;
        if (lineEnd - pos <= this.maxLineBytes) onLine(chunk, pos, lineEnd);
        else for (const line of this.#endLineOf(chunk.subarray(pos, nl))) onLine(line, 0, line.length);
      }
      pos = nl + 1;
    }
    if (pos < end) {
      const lines: Buffer[] = [];
      // Copied: a subarray would keep the whole frame alive for the sake of a short tail.
      this.#append(Buffer.from(chunk.subarray(pos, end)));
      this.#cutLongLine(lines);
      for (const line of lines) onLine(line, 0, line.length);
    }
  }

  #endLineOf(raw: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    this.#endLine(raw, lines);
    return lines;
  }

  /** Ends the stream: returns the last line when it had no '\n' (an empty array otherwise). */
  flush(): Buffer[] {
    const lines: Buffer[] = [];
    if (this.#pendingBytes > 0) this.#endLine(this.#take(Buffer.alloc(0)), lines);
    this.#continued = false;
    return lines;
  }

  #append(part: Buffer): void {
    this.#pending.push(part);
    this.#pendingBytes += part.length;
  }

  /** The pending bytes followed by `tail`, as one buffer; clears the pending list. */
  #take(tail: Buffer): Buffer {
    if (this.#pendingBytes === 0) return tail;
    const whole = Buffer.concat([...this.#pending, tail], this.#pendingBytes + tail.length);
    this.#pending = [];
    this.#pendingBytes = 0;
    return whole;
  }

  #endLine(raw: Buffer, out: Buffer[]): void {
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    const wasContinued = this.#continued;
    this.#continued = false;
    // The end of a line already sent in pieces: an empty rest is not an extra empty line.
    if (wasContinued && line.length === 0) return;
    // A line completed inside one push can still exceed the bound; cut it the same way.
    let rest = line;
    while (rest.length > this.maxLineBytes) {
      const cut = utf8Boundary(rest, this.maxLineBytes);
      out.push(rest.subarray(0, cut));
      rest = rest.subarray(cut);
    }
    out.push(rest);
  }

  /** Emits full pieces while more than maxLineBytes wait for a newline; keeps the rest. */
  #cutLongLine(out: Buffer[]): void {
    if (this.#pendingBytes <= this.maxLineBytes) return;
    let rest = this.#take(Buffer.alloc(0));
    while (rest.length > this.maxLineBytes) {
      const cut = utf8Boundary(rest, this.maxLineBytes);
      out.push(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      this.#continued = true;
    }
    this.#append(Buffer.from(rest));
  }
}

/** The first '\n' in bytes[from..end), or -1; never reads past `end`. */
function indexOfLf(bytes: Buffer, from: number, end: number): number {
  // Short ranges (a frame per line is the common case) by hand; a long one natively, on a view
  // so the search cannot run on into the rest of a large chunk.
  if (end - from <= 128) {
    for (let i = from; i < end; i++) if (bytes[i] === LF) return i;
    return -1;
  }
  const at = bytes.subarray(from, end).indexOf(LF);
  return at === -1 ? -1 : from + at;
}

/**
 * The largest cut position <= max that does not split a UTF-8 character, so each piece decodes
 * without U+FFFD. Falls back to max when the bytes are not UTF-8 (no boundary found nearby).
 */
export function utf8Boundary(bytes: Buffer, max: number): number {
  if (bytes.length <= max) return bytes.length;
  for (let i = max; i > max - 4 && i > 0; i--) {
    // A byte that is not a continuation byte (10xxxxxx) starts a character: cut before it.
    if (((bytes[i] as number) & 0xc0) !== 0x80) return i;
  }
  return max;
}
