// Incremental demultiplexer for the Engine API's multiplexed stream (GET /containers/{id}/logs of
// a container without a TTY): frames of an 8-byte header — stream type (0 stdin, 1 stdout,
// 2 stderr, 3 a daemon error), three zero bytes, a big-endian uint32 length — then the payload.
// HTTP chunks do not align with frames, so, like undici's ByteParser, chunks are kept in a list
// with a byte count and a state, and joined only when a whole header or payload is present: a
// frame inside one chunk costs no copy. The failure-log copy (container stdout to ours, stderr to
// ours) and the relay (which sets the level by stream) both need stdout and stderr kept apart.
import { ChunkQueue } from '../bytes/chunk-queue';
import type { LogFrameSink } from './engine-api';

/** The stream is not the multiplexed format, or the daemon reported an error inside it. */
export class LogStreamError extends Error {
  readonly code = 'E_LOG_STREAM';
}

const HEADER_BYTES = 8;
const STREAM_STDIN = 0;
const STREAM_STDOUT = 1;
const STREAM_STDERR = 2;
const STREAM_SYSTEM_ERROR = 3;

export class LogDemuxer {
  readonly #bytes = new ChunkQueue();
  /** Header of the frame whose payload is being read; undefined while waiting for a header. */
  #frame: { stream: number; length: number } | undefined;

  /** A bound on one frame, so a stream that is not multiplexed cannot make us allocate gigabytes. */
  constructor(readonly maxFrameBytes = 64 * 1024 * 1024) {}

  /**
   * Push mode: hands each completed non-empty frame in `chunk[start..end)` to `onFrame` as a byte
   * range, in order. A frame inside the range is passed as a range of the chunk itself (no copy,
   * no allocation); only a frame split across chunks goes through the queue, as copies: the
   * caller may reuse `chunk` once feed returns (the log stream's read buffer). Throws
   * LogStreamError after every frame before the fault was delivered: the output just before a
   * failure is the output an operator needs.
   */
  feed(chunk: Buffer, start: number, end: number, onFrame: LogFrameSink): void {
    let pos = start;
    // A header or payload begun in an earlier chunk: completed through the queue. The queue may
    // already hold more than a header (the tail of the last chunk), so only what is missing is
    // taken from this chunk.
    while (this.#bytes.length > 0 || this.#frame !== undefined) {
      if (this.#frame === undefined) {
        if (this.#bytes.length < HEADER_BYTES) {
          const n = Math.min(HEADER_BYTES - this.#bytes.length, end - pos);
          this.#bytes.push(Buffer.from(chunk.subarray(pos, pos + n)));
          pos += n;
          if (this.#bytes.length < HEADER_BYTES) return;
        }
        this.#frame = this.#parseHeader(this.#bytes.take(HEADER_BYTES), 0);
      }
      const { stream, length } = this.#frame;
      if (this.#bytes.length < length) {
        const n = Math.min(length - this.#bytes.length, end - pos);
        this.#bytes.push(Buffer.from(chunk.subarray(pos, pos + n)));
        pos += n;
        if (this.#bytes.length < length) return;
      }
      this.#frame = undefined;
      this.#deliver(stream, this.#bytes.take(length), 0, length, onFrame);
    }
    while (end - pos >= HEADER_BYTES) {
      const { stream, length } = this.#parseHeader(chunk, pos);
      const start = pos + HEADER_BYTES;
      if (end - start < length) break;
      pos = start + length;
      this.#deliver(stream, chunk, start, pos, onFrame);
    }
    // The start of the next frame.
    if (pos < end) this.#bytes.push(Buffer.from(chunk.subarray(pos, end)));
  }

  #deliver(stream: number, bytes: Buffer, start: number, end: number, onFrame: LogFrameSink): void {
    if (stream === STREAM_SYSTEM_ERROR) {
      throw new LogStreamError(`the Docker engine reported an error in the log stream: ${bytes.toString('utf8', start, end).trim()}`);
    }
    // Empty frames carry nothing a reader could use.
    if (end === start) return;
    // Docker's stdcopy writes stdin frames to stdout; so do we.
    onFrame(stream === STREAM_STDERR ? 'stderr' : 'stdout', bytes, start, end);
  }

  /** Bytes received but not yet part of a whole frame (a stream ending here was cut short). */
  get pendingBytes(): number {
    return this.#bytes.length + (this.#frame === undefined ? 0 : HEADER_BYTES);
  }

  #parseHeader(header: Buffer, at: number): { stream: number; length: number } {
    const stream = header[at];
    if (stream !== STREAM_STDIN && stream !== STREAM_STDOUT && stream !== STREAM_STDERR && stream !== STREAM_SYSTEM_ERROR) {
      throw new LogStreamError(`log stream: unrecognized stream type ${stream} in a frame header (not a multiplexed stream?)`);
    }
    const length = header.readUInt32BE(at + 4);
    if (length > this.maxFrameBytes) {
      throw new LogStreamError(`log stream: frame of ${length} bytes exceeds the ${this.maxFrameBytes} byte limit (not a multiplexed stream?)`);
    }
    return { stream, length };
  }
}
