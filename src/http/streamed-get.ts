// A GET whose body is handed over as ranges of one reused read buffer, for long streams read as
// fast as they come (the container log stream the syslog relay follows). node:http copies every
// HTTP chunk into a new Buffer and calls into JS once per chunk; dockerd flushes one chunk per
// log line, so under a flood that was a Buffer, a callback and a stream push per line. Here a
// socket read of many lines costs one callback and no allocation (net's `onread` buffer), and
// the framing (http1-body.ts) is decoded in place. Over TLS (a tcp:// Docker engine with
// DOCKER_TLS_VERIFY) the same: tls.connect takes the same `onread`, and node:tls is loaded only then.
import * as net from 'node:net';
import { HttpError, type TlsOptions } from './http-request';
import { bodyFraming, ChunkedDecoder, findHeadEnd, Http1Error, parseResponseHead, type BodyFraming } from './http1-body';

export interface StreamedGetOptions {
  /** A unix socket, or host and port. */
  socketPath?: string;
  host?: string;
  port?: number;
  /** With host and port: speak TLS, with these options. */
  tls?: TlsOptions;
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  /** For the response head only: a followed stream may stay quiet for hours. */
  timeoutMs?: number;
  /** Names the request in errors, e.g. `unix:///var/run/docker.sock/containers/x/logs`. */
  where: string;
}

/** Body bytes `bytes[start..end)`, valid only during the call: the next read reuses the buffer. */
export type BodySink = (bytes: Buffer, start: number, end: number) => void;

export interface StreamedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Hands the body to onBody until its end. Resolves at the end, or once destroy() was called;
   * rejects with an HttpError (E_HTTP_BODY) when the connection breaks first or the framing is
   * malformed, or with what onBody threw. Call once.
   */
  read(onBody: BodySink): Promise<void>;
  /** The whole body, at most maxBytes of it (error bodies, for their message); never rejects. */
  readAll(maxBytes?: number): Promise<Buffer>;
  /** Stops reading after the current read (the sender keeps the rest); resume() goes on. */
  pause(): void;
  resume(): void;
  destroy(): void;
}

class ConnectionClosed extends Error {
  constructor() { super('the connection closed before the end of the response'); }
}

/** One socket read; also the bound on what one onBody call sees. Hundreds of log lines a read. */
const READ_BUFFER_BYTES = 16 * 1024;

export function streamedGet(options: StreamedGetOptions): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    new StreamedGet(options, resolve, reject);
  });
}

class StreamedGet implements StreamedResponse {
  status = 0;
  headers: Record<string, string> = {};
  readonly #o: StreamedGetOptions;
  readonly #socket: net.Socket;
  #timer: NodeJS.Timeout | undefined;
  #onHead: ((res: StreamedResponse) => void) | undefined;
  #onHeadError: ((err: Error) => void) | undefined;
  /** The head so far, while it spans reads (copied: the read buffer is reused). */
  #head: Buffer = Buffer.alloc(0);
  /** Body bytes that came with the head, delivered when read() is called. */
  #early: Buffer | undefined;
  #framing: BodyFraming = { kind: 'close' };
  #chunked: ChunkedDecoder | undefined;
  #remaining = 0;
  #sink: BodySink | undefined;
  #settleRead: ((err?: unknown) => void) | undefined;
  /** The body's fate once known: ended (whole, or destroyed) or failed; read() reports it. */
  #outcome: { error?: unknown } | undefined;
  /** The sender closed its side: the end of a close-delimited body. */
  #eof = false;
  #paused = false;

  constructor(options: StreamedGetOptions, onHead: (res: StreamedResponse) => void, onHeadError: (err: Error) => void) {
    this.#o = options;
    this.#onHead = onHead;
    this.#onHeadError = onHeadError;
    const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const onread = { buffer, callback: (n: number, buf: Buffer): boolean => this.#onRead(buf, n) };
    if (options.socketPath !== undefined) {
      this.#socket = net.connect({ path: options.socketPath, onread });
    } else if (options.tls !== undefined) {
      const tls = require('node:tls') as typeof import('node:tls');
      // SNI for a host name; an IP address is checked against the certificate's IP entries.
      const servername = options.tls.servername ?? (net.isIP(options.host ?? '') === 0 ? options.host : undefined);
      // `onread` works as for net.connect; @types/node does not list it for tls.
      this.#socket = tls.connect({ host: options.host, port: options.port ?? 443, onread, ...options.tls, servername } as import('node:tls').ConnectionOptions);
    } else {
      this.#socket = net.connect({ host: options.host, port: options.port ?? 80, onread });
    }
    this.#socket.on(options.tls !== undefined && options.socketPath === undefined ? 'secureConnect' : 'connect', () => this.#socket.write(this.#requestText()));
    this.#socket.on('error', (err) => this.#fail(err, true));
    this.#socket.on('end', () => this.#onEnd());
    this.#socket.on('close', () => { if (!this.#eof) this.#fail(new ConnectionClosed()); });
    if (options.timeoutMs !== undefined) {
      this.#timer = setTimeout(() => this.#fail(new HttpError('E_HTTP_TIMEOUT', options.where, `${options.where}: no response within ${options.timeoutMs} ms`)), options.timeoutMs);
    }
  }

  #requestText(): string {
    const name = this.#o.host ?? '';
    const host = this.#o.socketPath !== undefined ? 'localhost' : `${name.includes(':') ? `[${name}]` : name}:${this.#o.port ?? 80}`;
    let text = `GET ${this.#o.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n`;
    for (const [name, value] of Object.entries(this.#o.headers ?? {})) text += `${name}: ${value}\r\n`;
    return text + '\r\n';
  }

  /** net's onread callback; returning false pauses the socket. */
  #onRead(buf: Buffer, n: number): boolean {
    try {
      if (this.#onHead !== undefined) {
        this.#readHead(buf, n);
        if (this.#onHead !== undefined) return true; // the head goes on in the next read
      } else if (this.#paused) {
        // TLS hands over what it already decrypted even after a read returned false: kept for resume().
        this.#early = Buffer.concat([this.#early ?? Buffer.alloc(0), buf.subarray(0, n)]);
        return false;
      } else {
        this.#deliver(buf, 0, n);
      }
    } catch (err) {
      this.#fail(err);
      return false;
    }
    // Until read() there is nowhere to put the body: the sender keeps it.
    return this.#outcome === undefined && this.#sink !== undefined && !this.#paused;
  }

  #readHead(buf: Buffer, n: number): void {
    const searchedTo = this.#head.length;
    this.#head = Buffer.concat([this.#head, buf.subarray(0, n)]);
    // Throws once the head outgrows MAX_HEAD_BYTES.
    const end = findHeadEnd(this.#head, searchedTo, this.#head.length);
    if (end < 0) return;
    const head = parseResponseHead(this.#head.toString('latin1', 0, end));
    this.status = head.status;
    this.headers = head.headers;
    this.#framing = bodyFraming(head);
    if (this.#framing.kind === 'chunked') this.#chunked = new ChunkedDecoder();
    if (this.#framing.kind === 'length') this.#remaining = this.#framing.length;
    if (end < this.#head.length) this.#early = this.#head.subarray(end);
    this.#head = Buffer.alloc(0);
    if (this.#framing.kind === 'length' && this.#remaining === 0) this.#end({});
    const onHead = this.#onHead!;
    this.#onHead = undefined;
    this.#onHeadError = undefined;
    clearTimeout(this.#timer);
    onHead(this);
  }

  /** Body bytes through the framing to the sink; ends the body where the framing says. */
  #deliver(buf: Buffer, start: number, end: number): void {
    const sink = this.#sink;
    if (this.#outcome !== undefined) return;
    if (sink === undefined) {
      // Only if a read was already under way when the head paused the socket: kept for read().
      this.#early = Buffer.concat([this.#early ?? Buffer.alloc(0), buf.subarray(start, end)]);
      return;
    }
    if (this.#chunked !== undefined) {
      if (this.#chunked.feed(buf, start, end, sink) >= 0) this.#end({});
    } else if (this.#framing.kind === 'length') {
      const take = Math.min(this.#remaining, end - start);
      if (take > 0) sink(buf, start, start + take);
      this.#remaining -= take;
      if (this.#remaining === 0) this.#end({});
    } else if (end > start) {
      sink(buf, start, end);
    }
  }

  read(onBody: BodySink): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#sink !== undefined) { reject(new Error('streamedGet: read() called twice')); return; }
      this.#sink = onBody;
      this.#settleRead = (err) => { if (err === undefined) resolve(); else reject(err); };
      this.#deliverEarly();
    });
  }

  /** Body bytes kept for later (from the head's read, or held while paused), then the end if it came. */
  #deliverEarly(): void {
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) {
      try {
        this.#deliver(early, 0, early.length);
      } catch (err) {
        this.#fail(err);
      }
    }
    if (this.#outcome === undefined && this.#eof) this.#onEnd();
    if (this.#outcome !== undefined) this.#report();
    else if (!this.#paused) this.#socket.resume();
  }

  async readAll(maxBytes = 64 * 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    let kept = 0;
    await this.read((bytes, start, end) => {
      const take = Math.min(end - start, maxBytes - kept);
      if (take > 0) { parts.push(Buffer.from(bytes.subarray(start, start + take))); kept += take; }
    }).catch(() => undefined);
    return Buffer.concat(parts);
  }

  pause(): void {
    this.#paused = true;
    // Inside a read, the callback's false return pauses; outside one, this does.
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#sink !== undefined && this.#outcome === undefined) this.#deliverEarly();
  }

  destroy(): void {
    if (this.#onHead !== undefined) this.#fail(new HttpError('E_HTTP_ABORTED', this.#o.where, `${this.#o.where}: request aborted`));
    else this.#end({});
  }

  #onEnd(): void {
    if (this.#onHead === undefined && (this.#sink === undefined || this.#early !== undefined)) {
      // Bytes kept for read() or resume() come first (they may end the body); then this again.
      this.#eof = true;
    } else if (this.#onHead !== undefined || this.#framing.kind !== 'close') {
      this.#fail(new ConnectionClosed());
    } else {
      this.#end({});
    }
  }

  /** `transport`: from the socket (connection, TLS), not from the framing or the sink. */
  #fail(err: unknown, transport = false): void {
    if (this.#onHead !== undefined) {
      const reject = this.#onHeadError!;
      this.#onHead = undefined;
      this.#onHeadError = undefined;
      clearTimeout(this.#timer);
      this.#outcome = { error: err };
      this.#socket.destroy();
      const cause = err as NodeJS.ErrnoException;
      reject(err instanceof HttpError ? err : new HttpError('E_HTTP_CONNECT', this.#o.where, `${this.#o.where}: ${cause.code ?? cause.message}`, undefined, { cause: err }));
      return;
    }
    // What the sink threw is passed on as it is; a transport or framing fault is an HttpError.
    const fromSink = !transport && !(err instanceof Http1Error) && !(err instanceof ConnectionClosed);
    this.#end({ error: fromSink ? err : new HttpError('E_HTTP_BODY', this.#o.where, `${this.#o.where}: ${(err as Error).message}`, this.status, { cause: err }) });
  }

  /** Settles the body once: the first outcome wins (a close after the end is no failure). */
  #end(outcome: { error?: unknown }): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.#socket.destroy();
    this.#report();
  }

  #report(): void {
    const settle = this.#settleRead;
    if (settle === undefined || this.#outcome === undefined) return;
    this.#settleRead = undefined;
    settle(this.#outcome.error);
  }
}
