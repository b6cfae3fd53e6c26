// Incremental RecordIO decoder for the SUBSCRIBE stream: "<length>\n<length bytes>" repeated
// (apache/mesos docs/scheduler-http-api.md, RecordIO response format). HTTP chunks do not align
// with records: one chunk may hold several records, and a record may span many chunks.

export class RecordIOError extends Error {
  readonly code = 'E_RECORDIO';
}

import { ChunkQueue } from '../bytes/chunk-queue';

const MAX_HEADER_DIGITS = 20; // a uint64 in decimal
const NEWLINE = 0x0a;

export class RecordIODecoder {
  readonly #bytes = new ChunkQueue();
  /** Length of the record being read, once its header has been parsed. */
  #expected: number | undefined;

  constructor(readonly maxRecordBytes = 256 * 1024 * 1024) {}

  /** Feeds bytes; returns every record completed by them, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#bytes.push(chunk);
    const records: Buffer[] = [];
    for (;;) {
      if (this.#expected === undefined && !this.#readHeader()) break;
      if (this.#bytes.length < this.#expected!) break;
      records.push(this.#bytes.take(this.#expected!));
      this.#expected = undefined;
    }
    return records;
  }

  /** Bytes received but not yet part of a whole record (a stream ending here was cut short). */
  get pendingBytes(): number {
    return this.#bytes.length;
  }

  #readHeader(): boolean {
    const at = this.#bytes.indexOf(NEWLINE, MAX_HEADER_DIGITS + 2);
    if (at < 0) {
      if (this.#bytes.length > MAX_HEADER_DIGITS + 1) throw new RecordIOError('RecordIO: record length line too long');
      return false;
    }
    const header = this.#bytes.take(at + 1).subarray(0, at).toString('latin1').trim();
    if (!/^\d+$/.test(header)) throw new RecordIOError(`RecordIO: bad record length ${JSON.stringify(header.slice(0, 32))}`);
    const length = Number(header);
    if (length > this.maxRecordBytes) throw new RecordIOError(`RecordIO: record of ${length} bytes exceeds the ${this.maxRecordBytes} byte limit`);
    this.#expected = length;
    return true;
  }
}

/** Frames one record, for the agent double and local mode. */
export function encodeRecord(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'latin1'), body]);
}
