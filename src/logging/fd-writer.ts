// The executor's stdout and stderr. Under a Mesos agent they are files in the sandbox, and a
// sandbox disk fills up (docs/faults.md): a write that fails must never throw, never reach the
// crash handler (whose own log line would fail again, and again), never stop a status update.
// So output goes straight to the file descriptor with fs.writeSync, one call per write, instead
// of through process.stdout: a Node stream that fails once emits 'error' (an uncaught exception
// without a listener) and is destroyed for good, while the disk may free up a minute later.
// A failed write is dropped and counted; the first write that works again is preceded by one
// note saying how much was lost.
import { writeSync } from 'node:fs';

/** Where output goes: returns false when the write failed and was dropped. Never throws. */
export interface OutputStream {
  write(data: string | Buffer): boolean;
}

export interface FdWriterOptions {
  now?: () => Date;
  /** fs.writeSync by default; tests pass one that fails like a full disk. */
  writeSync?: (fd: number, buffer: Buffer, offset: number, length: number) => number;
}

/** How long one write may keep retrying EAGAIN (a non-blocking pipe that is full). */
const EAGAIN_BUDGET_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

export class FdWriter implements OutputStream {
  readonly #fd: number;
  readonly #name: string;
  readonly #now: () => Date;
  readonly #writeSync: NonNullable<FdWriterOptions['writeSync']>;
  #droppedWrites = 0;
  #droppedBytes = 0;
  #lastError = '';
  /** A failed write left part of a line in the file: the note must start a line of its own. */
  #lineCut = false;

  constructor(fd: number, name: string, options: FdWriterOptions = {}) {
    this.#fd = fd;
    this.#name = name;
    this.#now = options.now ?? (() => new Date());
    this.#writeSync = options.writeSync ?? writeSync;
  }

  /** Writes dropped since the stream last worked. */
  get droppedWrites(): number { return this.#droppedWrites; }

  write(data: string | Buffer): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.#droppedWrites > 0) {
      const note = Buffer.from(`${this.#lineCut ? '\n' : ''}time="${this.#now().toISOString()}" level=warning msg="Output could not be written and was dropped"`
        + ` stream=${this.#name} writes=${this.#droppedWrites} bytes=${this.#droppedBytes} error=${this.#lastError}\n`);
      const written = this.#writeAll(note);
      if (written < note.length) {
        // The note itself did not fit: it is no line, and it is not counted as output.
        this.#lineCut ||= written > 0;
        return this.#drop(bytes, 0);
      }
      this.#droppedWrites = 0;
      this.#droppedBytes = 0;
      this.#lineCut = false;
    }
    const written = this.#writeAll(bytes);
    return written === bytes.length || this.#drop(bytes, written);
  }

  /** Counts what a failed write left out: the part of `bytes` after the first `written`. */
  #drop(bytes: Buffer, written: number): false {
    this.#droppedWrites++;
    this.#droppedBytes += bytes.length - written;
    if (written > 0) this.#lineCut = bytes[written - 1] !== 0x0a;
    return false;
  }

  /**
   * The whole buffer, across partial writes (a full disk takes what fits, then fails): returns
   * how many bytes were written, all of them unless an error (ENOSPC, EPIPE, EIO...) came first.
   */
  #writeAll(bytes: Buffer): number {
    let offset = 0;
    let waitedMs = 0;
    while (offset < bytes.length) {
      try {
        offset += this.#writeSync(this.#fd, bytes, offset, bytes.length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        // A non-blocking pipe with a slow reader: wait a little rather than lose the line.
        if (code === 'EAGAIN' && waitedMs < EAGAIN_BUDGET_MS) {
          Atomics.wait(pause, 0, 0, 1);
          waitedMs += 1;
          continue;
        }
        this.#lastError = code;
        return offset;
      }
    }
    return offset;
  }
}

/** The process's own stdout and stderr as FdWriters. */
export function processOutput(): { stdout: FdWriter; stderr: FdWriter } {
  return { stdout: new FdWriter(1, 'stdout'), stderr: new FdWriter(2, 'stderr') };
}
