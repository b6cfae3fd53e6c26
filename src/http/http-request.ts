// All network access goes through here: node:http (about 1 MB) rather than the global fetch
// (about 5 MB), node:https loaded only when a URL needs TLS. Every error names the URL it was
// for and keeps the cause; none carries a header value (tokens travel in headers).
import * as http from 'node:http';
import type * as https from 'node:https';
import type { SecureContext } from 'node:tls';

export interface TlsOptions {
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
  /** A client certificate and its private key (PEM), for servers that require one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The Docker engine's: CA and client certificate parsed once, replacing `ca`, `cert`, `key`. */
  secureContext?: SecureContext;
}

export interface RequestOptions {
  method?: string;
  /** http:// or https:// URL; with socketPath, only its path and query are used. */
  url: string;
  socketPath?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  tls?: TlsOptions;
  signal?: AbortSignal;
}

export interface HttpResponse { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export type HttpErrorCode = 'E_HTTP_CONNECT' | 'E_HTTP_TIMEOUT' | 'E_HTTP_ABORTED' | 'E_HTTP_STATUS' | 'E_HTTP_BODY';

export class HttpError extends Error {
  constructor(readonly code: HttpErrorCode, readonly url: string, message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

let httpsModule: typeof https | undefined;
function loadHttps(): typeof https {
  // Loaded on first use: most executors never speak TLS, and tls costs memory.
  httpsModule ??= require('node:https') as typeof https;
  return httpsModule;
}

function describe(url: string): string {
  try { const u = new URL(url); return `${u.protocol}//${u.host}${u.pathname}`; } catch { return url; }
}

/** Starts a request and resolves with the response head; the caller consumes the body stream. */
export function requestStream(options: RequestOptions): Promise<http.IncomingMessage> {
  const url = new URL(options.url);
  const where = options.socketPath ? `unix://${options.socketPath}${url.pathname}` : describe(options.url);
  const isTls = url.protocol === 'https:';
  const lib = isTls ? loadHttps() : http;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = lib.request({
      method: options.method ?? 'GET',
      host: options.socketPath ? undefined : url.hostname.replace(/^\[|\]$/g, ''),
      port: options.socketPath ? undefined : url.port || (isTls ? 443 : 80),
      socketPath: options.socketPath,
      path: url.pathname + url.search,
      headers,
      agent: false,
      ...(isTls ? options.tls : {}),
    });
    let settled = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(
      () => fail(new HttpError('E_HTTP_TIMEOUT', where, `${where}: no response within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(new HttpError('E_HTTP_ABORTED', where, `${where}: request aborted`));
    const fail = (err: HttpError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A failed request must not leave its listener on a long-lived signal: the health
      // monitor's lives as long as the task, and each failed check would add one.
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(err);
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (cause: NodeJS.ErrnoException) => {
      fail(new HttpError('E_HTTP_CONNECT', where, `${where}: ${cause.code ?? cause.message}`, undefined, { cause }));
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (settled) { res.destroy(); return; }
      settled = true;
      resolve(res);
    });
    req.end(options.body);
  });
}

/**
 * Reads a whole response; rejects when the body does not arrive within timeoutMs in total, when
 * the connection closes before the body is complete (a Docker engine that restarts mid-wait), or
 * when `signal` aborts while the body is awaited.
 */
export async function request(options: RequestOptions): Promise<HttpResponse> {
  const started = Date.now();
  const res = await requestStream(options);
  const where = describe(options.url);
  const remaining = options.timeoutMs === undefined ? undefined : Math.max(1, options.timeoutMs - (Date.now() - started));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (err: HttpError): void => settle(() => { res.destroy(); reject(err); });
    const timer = remaining === undefined ? undefined : setTimeout(
      () => fail(new HttpError('E_HTTP_TIMEOUT', where, `${where}: response body not complete within ${options.timeoutMs} ms`)),
      remaining,
    );
    const onAbort = (): void => fail(new HttpError('E_HTTP_ABORTED', where, `${where}: request aborted`));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', (cause) => fail(new HttpError('E_HTTP_BODY', where, `${where}: ${cause.message}`, res.statusCode, { cause })));
    res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })));
    res.on('close', () => fail(new HttpError('E_HTTP_BODY', where, `${where}: the connection closed before the response was complete`, res.statusCode)));
  });
}

/**
 * An error response's body, for its message: whatever arrived, even when the connection breaks
 * part way (never rejects: the status alone already says the request failed).
 */
export function readErrorBody(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** The response's body as text for an error message, trimmed so a page of HTML stays one line. */
export function bodySnippet(body: Buffer, max = 200): string {
  const text = body.toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > max ? text.slice(0, max) + '…' : text;
}
