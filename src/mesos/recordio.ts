// Incremental RecordIO decoder for the SUBSCRIBE stream: "<length>\n<length bytes>" repeated
// (apache/mesos docs/scheduler-http-api.md, RecordIO response format). HTTP chunks do not align
// with records: one chunk may hold several records, and a record may span many chunks. Chunks
// are kept in a list and joined only when a whole record is present, so a multi-MB record costs
// one copy, not one per chunk.

export class RecordIOError extends Error {
  readonly code = 'E_RECORDIO';
}

const MAX_HEADER_DIGITS = 20; // a uint64 in decimal
const NEWLINE = 0x0a;

export class RecordIODecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the record being read, once its header has been parsed. */
  #expected: number | undefined;

  constructor(readonly maxRecordBytes = 256 * 1024 * 1024) {}

  /** Feeds bytes; returns every record completed by them, in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const records: Buffer[] = [];
    for (;;) {
      if (this.#expected === undefined && !this.#readHeader()) break;
      if (this.#buffered < this.#expected!) break;
      records.push(this.#take(this.#expected!));
      this.#expected = undefined;
    }
    return records;
  }

  /** Bytes received but not yet part of a whole record (a stream ending here was cut short). */
  get pendingBytes(): number {
    return this.#buffered;
  }

  #readHeader(): boolean {
    let seen = 0;
    for (const chunk of this.#chunks) {
      const at = chunk.indexOf(NEWLINE);
      if (at >= 0) {
        const header = this.#take(seen + at + 1).subarray(0, seen + at).toString('latin1').trim();
        if (!/^\d+$/.test(header)) throw new RecordIOError(`RecordIO: bad record length ${JSON.stringify(header.slice(0, 32))}`);
        const length = Number(header);
        if (length > this.maxRecordBytes) throw new RecordIOError(`RecordIO: record of ${length} bytes exceeds the ${this.maxRecordBytes} byte limit`);
        this.#expected = length;
        return true;
      }
      seen += chunk.length;
      if (seen > MAX_HEADER_DIGITS + 1) throw new RecordIOError('RecordIO: record length line too long');
    }
    return false;
  }

  /** Removes and returns the first `n` buffered bytes. */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#buffered -= n;
    return out;
  }
}

/** Frames one record, for the agent double and local mode. */
export function encodeRecord(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'latin1'), body]);
}
