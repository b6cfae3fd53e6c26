// EngineApi over the Docker Engine HTTP API, through our own http-request module: dockerode and
// fetch would each cost more memory than the whole executor may use (one executor per task).
// Paths are unversioned, so the engine serves its own API version (1.41 on Docker 20.10), unless
// DOCKER_API_VERSION asks for one (docker-host.ts). tcp:// with TLS goes through node:https and
// streamed-get's TLS socket, with the options docker-tls.ts built once at start-up.
// Errors carry stable codes (engine-api.ts) and name the engine and the request, never a header:
// the X-Registry-Auth header holds the registry password.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { bodySnippet, HttpError, readErrorBody, request, requestStream, type HttpResponse, type TlsOptions } from '../http/http-request';
import { streamedGet, type StreamedResponse } from '../http/streamed-get';
import { describeDockerTarget, type DockerTarget } from './docker-host';
import { describeTlsFailure } from './docker-tls';
import {
  EngineError, type ContainerState, type CreateBody, type EngineApi, type EngineErrorCode, type LogFrame, type LogFrameSink, type LogStream, type LogsOptions,
  type ListedContainer, type RegistryAuth, type RequestBounds, type ContainerAddress, type ExecCommand, type ExecState,
} from './engine-api';
import { familiarRepository, parseImageRef, repositoryOf, type ImageRef } from './image-ref';
import { LogDemuxer, LogStreamError } from './log-demux';

export interface EngineClientOptions {
  /** Bound on an ordinary request (not wait, logs or pull, which last as long as they need). */
  requestTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * How long after the stop timeout the engine may take to answer a stop: after the SIGKILL it only
 * waits for the process to go. Longer means a hung engine (docs/faults.md): the stop is retried.
 */
const STOP_ANSWER_MARGIN_MS = 10_000;
/** A pull that reports no progress for this long is stalled (a hung engine or registry). */
const PULL_STALL_MS = 120_000;
const JSON_HEADERS = { 'content-type': 'application/json' };


export class DockerEngineClient implements EngineApi {
  readonly #target: DockerTarget;
  readonly #where: string;
  readonly #timeoutMs: number;

  constructor(target: DockerTarget, options: EngineClientOptions = {}) {
    this.#target = target;
    this.#where = describeDockerTarget(target);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async imageExists(image: string): Promise<boolean> {
    // Inspect alone is not an exact match (docs/containers.md): it also finds images by id prefix.
    const res = await this.#call('GET', `/images/${encodeRef(image)}/json`);
    if (res.status === 404) return false;
    if (res.status !== 200) throw this.#statusError(res, `inspecting image ${image}`);
    const found = parseJson(res.body, `inspecting image ${image}`) as { RepoTags?: string[] | null; RepoDigests?: string[] | null };
    const wanted = refOf(image);
    const name = familiarRepository(wanted);
    const same = (listed: string, pick: (r: ImageRef) => string | undefined, value: string): boolean => {
      const r = parseImageRef(listed);
      return r.ok && familiarRepository(r.ref) === name && pick(r.ref) === value;
    };
    if (wanted.digest !== undefined) return (found.RepoDigests ?? []).some((d) => same(d, (r) => r.digest, wanted.digest!));
    return (found.RepoTags ?? []).some((t) => same(t, (r) => r.tag, wanted.tag ?? 'latest'));
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    const ref = refOf(image);
    const query = new URLSearchParams({ fromImage: repositoryOf(ref), tag: ref.digest ?? ref.tag ?? 'latest' });
    const secrets = auth ? [auth.password, auth.identitytoken, auth.auth].filter((s): s is string => !!s) : [];
    const fail = (detail: string, status?: number, cause?: unknown): EngineError =>
      new EngineError('E_PULL_FAILED', `pulling image ${image} failed: ${redact(detail, secrets)}`, status, { cause });
    let res: IncomingMessage;
    try {
      // No overall timeout: a big image takes as long as it takes, and the registry client
      // inside dockerd has its own timeouts and reports them in the stream. But the engine must
      // answer, and then report progress (docs/faults.md: a hung engine must not hang the launch).
      res = await requestStream({
        method: 'POST', url: this.#url(`/images/create?${query}`), socketPath: this.#socketPath(), tls: this.#tls(),
        headers: auth ? { 'x-registry-auth': encodeRegistryAuth(auth) } : {}, timeoutMs: this.#timeoutMs,
      });
    } catch (err) {
      throw this.#transportError(err, 'POST /images/create');
    }
    if (res.statusCode !== 200) {
      const body = await readErrorBody(res);
      throw fail(`the Docker engine answered ${res.statusCode}: ${engineMessage(body)}`, res.statusCode);
    }
    // A failure before any progress is a non-2xx status (above); once the engine has answered
    // 200, failures come as {"error": ...} lines in the JSON progress stream (a missing layer,
    // a broken download), so the pull is done only when the stream ends without one.
    const decoder = new StringDecoder('utf8');
    let carry = '';
    res.socket.setTimeout(PULL_STALL_MS, () => res.destroy(new Error(`no progress for ${PULL_STALL_MS / 1000} s`)));
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        const lines = (carry + decoder.write(chunk)).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) {
          const error = progressError(line);
          if (error !== undefined) { res.destroy(); throw fail(error, 200); }
        }
      }
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw fail(`the connection to the Docker engine at ${this.#where} broke: ${(err as Error).message}`, 200, err);
    }
    const last = progressError(carry + decoder.end());
    if (last !== undefined) throw fail(last, 200);
  }

  async createContainer(name: string, body: CreateBody): Promise<string> {
    const res = await this.#call('POST', `/containers/create?${new URLSearchParams({ name })}`, { body: JSON.stringify(body) });
    if (res.status !== 201) throw this.#statusError(res, `creating container ${name}`, 'E_NO_SUCH_IMAGE');
    return (parseJson(res.body, `creating container ${name}`) as { Id: string }).Id;
  }

  async startContainer(id: string): Promise<void> {
    const res = await this.#call('POST', `/containers/${encodeURIComponent(id)}/start`);
    // 304: already started, which is what we asked for.
    if (res.status !== 204 && res.status !== 304) throw this.#statusError(res, `starting container ${id}`, 'E_NO_SUCH_CONTAINER');
  }

  async waitContainer(id: string, bounds: RequestBounds = {}): Promise<number> {
    // Long-lived on purpose (the exit is noticed at once): no timeout unless asked.
    const res = await this.#call('POST', `/containers/${encodeURIComponent(id)}/wait`, { timeoutMs: bounds.timeoutMs ?? null, signal: bounds.signal });
    if (res.status !== 200) throw this.#statusError(res, `waiting for container ${id}`, 'E_NO_SUCH_CONTAINER');
    return (parseJson(res.body, `waiting for container ${id}`) as { StatusCode: number }).StatusCode;
  }

  async inspectContainer(id: string, bounds: RequestBounds = {}): Promise<ContainerState> {
    const found = await this.#inspect(id, bounds);
    return {
      id: found.Id,
      running: found.State?.Running === true,
      exitCode: found.State?.ExitCode ?? -1,
      oomKilled: found.State?.OOMKilled === true,
      removing: found.State?.Status === 'removing' || found.State?.Dead === true,
      error: found.State?.Error ?? '',
      labels: found.Config?.Labels ?? {},
      env: found.Config?.Env ?? [],
      addresses: addressesOf(found),
    };
  }

  async stopContainer(id: string, timeoutSec: number, bounds: RequestBounds = {}): Promise<void> {
    // Rounded up: a fractional grace period (a kill_policy's) must not be cut short.
    const t = Math.max(0, Math.ceil(timeoutSec));
    // The engine answers only after the container is gone: up to t seconds, then the SIGKILL.
    // bounds.timeoutMs can only shorten that (a SHUTDOWN's grace period ends first).
    const timeoutMs = Math.min(bounds.timeoutMs ?? Infinity, t * 1000 + STOP_ANSWER_MARGIN_MS);
    const res = await this.#call('POST', `/containers/${encodeURIComponent(id)}/stop?t=${t}`, { timeoutMs, signal: bounds.signal });
    // 304: already stopped.
    if (res.status !== 204 && res.status !== 304) throw this.#statusError(res, `stopping container ${id}`, 'E_NO_SUCH_CONTAINER');
  }

  async listContainers(labelKeys: string[], bounds: RequestBounds = {}): Promise<ListedContainer[]> {
    const filters = JSON.stringify({ label: labelKeys, status: ['running'] });
    const res = await this.#call('GET', `/containers/json?${new URLSearchParams({ filters })}`, { timeoutMs: bounds.timeoutMs, signal: bounds.signal });
    if (res.status !== 200) throw this.#statusError(res, 'listing containers');
    const listed = parseJson(res.body, 'listing containers') as { Id: string; Names?: string[] | null; Labels?: Record<string, string> | null }[];
    return listed.map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {} }));
  }

  async removeContainer(id: string): Promise<void> {
    const res = await this.#call('DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`);
    if (res.status === 204 || res.status === 404) return;
    // Someone else (the wrapper script's clean-up) is already removing it.
    if (res.status === 409 && /already in progress/i.test(engineMessage(res.body))) return;
    throw this.#statusError(res, `removing container ${id}`);
  }

  async containerLogs(id: string, options: LogsOptions): Promise<LogStream> {
    // Engine API 1.41 sends no Content-Type for logs: only the container's Tty tells a raw stream
    // from a multiplexed one (1.42+ says it in the header; the Tty answer holds there too).
    const tty = (await this.#inspect(id)).Config?.Tty === true;
    const query = new URLSearchParams({
      stdout: options.stdout === false ? '0' : '1',
      stderr: options.stderr === false ? '0' : '1',
      follow: options.follow === true ? '1' : '0',
    });
    if (options.sinceSec !== undefined && options.sinceSec > 0) query.set('since', options.sinceSec.toFixed(3));
    if (options.tail !== undefined) query.set('tail', String(options.tail));
    const path = `/containers/${encodeURIComponent(id)}/logs?${query}`;
    let res: StreamedResponse;
    try {
      // Not node:http: a followed log stream under a flood is one HTTP chunk per line (streamed-get.ts).
      const at = 'socketPath' in this.#target ? { socketPath: this.#target.socketPath } : { ...hostAndPort(this.#target.baseUrl), tls: this.#target.tls };
      res = await streamedGet({ ...at, path: this.#versioned(path), timeoutMs: this.#timeoutMs, where: `${this.#where}${path.split('?')[0]}` });
    } catch (err) {
      throw this.#transportError(err, `GET ${path.split('?')[0]}`);
    }
    if (res.status !== 200) {
      const body = await res.readAll();
      throw this.#statusError({ status: res.status, headers: res.headers, body }, `reading the logs of container ${id}`, 'E_NO_SUCH_CONTAINER');
    }
    return logFrames(res, tty, `the log stream of container ${id} from ${this.#where}`);
  }

  /** GET /version: the engine's release and API version (`sidecar-executor doctor`). */
  async version(bounds: RequestBounds = {}): Promise<{ version: string; apiVersion: string }> {
    const res = await this.#call('GET', '/version', { timeoutMs: bounds.timeoutMs, signal: bounds.signal });
    if (res.status !== 200) throw this.#statusError(res, 'asking the engine its version');
    const found = parseJson(res.body, 'asking the engine its version') as { Version?: unknown; ApiVersion?: unknown };
    return { version: String(found.Version ?? 'unknown'), apiVersion: String(found.ApiVersion ?? 'unknown') };
  }

  async createExec(id: string, command: ExecCommand, bounds: RequestBounds = {}): Promise<string> {
    const body = JSON.stringify({ Cmd: command.cmd, Env: command.env, AttachStdout: true, AttachStderr: true });
    const res = await this.#call('POST', `/containers/${encodeURIComponent(id)}/exec`, { body, timeoutMs: bounds.timeoutMs, signal: bounds.signal });
    if (res.status !== 201) throw this.#statusError(res, `creating an exec in container ${id}`, 'E_NO_SUCH_CONTAINER');
    return (parseJson(res.body, `creating an exec in container ${id}`) as { Id: string }).Id;
  }

  async startExec(execId: string, bounds: RequestBounds = {}): Promise<Readable> {
    // Not detached: dockerd answers with the command's output and closes it when the command exits.
    const path = `/exec/${encodeURIComponent(execId)}/start`;
    let res: IncomingMessage;
    try {
      res = await requestStream({
        method: 'POST', url: this.#url(path), socketPath: this.#socketPath(), body: '{"Detach":false,"Tty":false}',
        headers: JSON_HEADERS, timeoutMs: bounds.timeoutMs ?? this.#timeoutMs, signal: bounds.signal,
      });
    } catch (err) {
      throw this.#transportError(err, 'POST /exec/{id}/start');
    }
    if (res.statusCode !== 200) {
      const body = await readErrorBody(res);
      throw this.#statusError({ status: res.statusCode ?? 0, headers: res.headers, body }, `starting exec ${execId}`);
    }
    return res;
  }

  async inspectExec(execId: string, bounds: RequestBounds = {}): Promise<ExecState> {
    const res = await this.#call('GET', `/exec/${encodeURIComponent(execId)}/json`, { timeoutMs: bounds.timeoutMs, signal: bounds.signal });
    if (res.status !== 200) throw this.#statusError(res, `inspecting exec ${execId}`);
    const found = parseJson(res.body, `inspecting exec ${execId}`) as { Running?: boolean; ExitCode?: number | null; Pid?: number };
    return { running: found.Running === true, exitCode: found.ExitCode ?? undefined, pid: found.Pid ?? 0 };
  }

  async #inspect(id: string, bounds: RequestBounds = {}): Promise<InspectBody> {
    const res = await this.#call('GET', `/containers/${encodeURIComponent(id)}/json`, { timeoutMs: bounds.timeoutMs, signal: bounds.signal });
    if (res.status !== 200) throw this.#statusError(res, `inspecting container ${id}`, 'E_NO_SUCH_CONTAINER');
    return parseJson(res.body, `inspecting container ${id}`) as InspectBody;
  }

  /** One whole request; timeoutMs null means none, undefined the client's default. */
  async #call(method: string, path: string, options: { body?: string; timeoutMs?: number | null; signal?: AbortSignal } = {}): Promise<HttpResponse> {
    try {
      return await request({
        method, url: this.#url(path), socketPath: this.#socketPath(), body: options.body, tls: this.#tls(),
        headers: options.body === undefined ? {} : JSON_HEADERS,
        timeoutMs: options.timeoutMs === null ? undefined : options.timeoutMs ?? this.#timeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      throw this.#transportError(err, `${method} ${path.split('?')[0]}`);
    }
  }

  #url(path: string): string {
    return ('socketPath' in this.#target ? 'http://docker' : this.#target.baseUrl) + this.#versioned(path);
  }

  /** `/v1.41/containers/...` when DOCKER_API_VERSION is set, as go-dockerclient's getURL. */
  #versioned(path: string): string {
    return this.#target.apiVersion === undefined ? path : `/v${this.#target.apiVersion}${path}`;
  }

  #socketPath(): string | undefined {
    return 'socketPath' in this.#target ? this.#target.socketPath : undefined;
  }

  #tls(): TlsOptions | undefined {
    return 'socketPath' in this.#target ? undefined : this.#target.tls;
  }

  #transportError(err: unknown, what: string): EngineError {
    if (err instanceof HttpError && err.code === 'E_HTTP_ABORTED') {
      return new EngineError('E_ENGINE_UNREACHABLE', `${what} to the Docker engine at ${this.#where} was abandoned`, undefined, { cause: err });
    }
    if (err instanceof HttpError && err.code === 'E_HTTP_TIMEOUT') {
      return new EngineError('E_ENGINE_UNREACHABLE', `the Docker engine at ${this.#where} did not answer ${what} in time`, undefined, { cause: err });
    }
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    // The two an operator meets most: dockerd not running (or restarting) on this socket.
    const why = cause?.code === 'ENOENT' ? 'ENOENT (no socket: is dockerd running?)'
      : cause?.code === 'ECONNREFUSED' ? 'ECONNREFUSED (is dockerd running?)'
      : (this.#tls() !== undefined && cause !== undefined ? describeTlsFailure(cause) : undefined) ?? cause?.code ?? (err as Error).message;
    return new EngineError('E_ENGINE_UNREACHABLE', `the Docker engine at ${this.#where} is unreachable (${what}): ${why}`, undefined, { cause: err });
  }

  #statusError(res: HttpResponse, what: string, notFound?: EngineErrorCode): EngineError {
    const message = engineMessage(res.body);
    if (res.status === 404 && notFound !== undefined) return new EngineError(notFound, `${what}: ${message}`, 404);
    return new EngineError('E_ENGINE_STATUS', `${what}: the Docker engine answered ${res.status}: ${message}`, res.status);
  }
}

interface InspectBody {
  Id: string;
  State?: { Status?: string; Running?: boolean; Dead?: boolean; ExitCode?: number; OOMKilled?: boolean; Error?: string };
  Config?: { Tty?: boolean; Labels?: Record<string, string> | null; Env?: string[] | null };
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string } | null> | null };
}

/**
 * The container's own addresses, as the Mesos Docker executor reads them (IPAddress and
 * GlobalIPv6Address of its network); a host-networked container has none of its own.
 */
function addressesOf(found: InspectBody): ContainerAddress[] {
  if (found.HostConfig?.NetworkMode === 'host') return [];
  const addresses: ContainerAddress[] = [];
  for (const network of Object.values(found.NetworkSettings?.Networks ?? {})) {
    if (network?.IPAddress) addresses.push({ ip: network.IPAddress, family: 'IPv4' });
    if (network?.GlobalIPv6Address) addresses.push({ ip: network.GlobalIPv6Address, family: 'IPv6' });
  }
  return addresses;
}

function logFrames(res: StreamedResponse, tty: boolean, what: string): LogStream {
  const failure = (err: unknown): unknown => {
    if (err instanceof LogStreamError) return new EngineError('E_ENGINE_STATUS', `${what}: ${err.message}`, 200);
    if (err instanceof HttpError) return new EngineError('E_ENGINE_UNREACHABLE', `${what} broke: ${(err.cause as Error | undefined)?.message ?? err.message}`, undefined, { cause: err });
    return err; // what onFrame threw, as it is
  };
  /** Push mode: each socket read parsed synchronously, no promise or allocation per frame. */
  const forEach = (onFrame: LogFrameSink): Promise<void> => {
    // A TTY container's output is one raw stream: all of it counts as stdout.
    const demux = tty ? undefined : new LogDemuxer();
    const onBody = demux === undefined
      ? (bytes: Buffer, start: number, end: number): void => onFrame('stdout', bytes, start, end)
      : (bytes: Buffer, start: number, end: number): void => demux.feed(bytes, start, end, onFrame);
    return res.read(onBody).catch((err: unknown) => { throw failure(err); });
  };
  /** Pull mode, over push mode: frames are copied (the read buffer is reused) and reading waits for the reader. */
  async function* frames(): AsyncGenerator<LogFrame> {
    const pending: LogFrame[] = [];
    let wake: (() => void) | undefined;
    let outcome: { error?: unknown } | undefined;
    forEach((stream, bytes, start, end) => {
      pending.push({ stream, data: Buffer.from(bytes.subarray(start, end)) });
      res.pause();
      wake?.();
    }).then(() => { outcome = {}; wake?.(); }, (error: unknown) => { outcome = { error }; wake?.(); });
    try {
      for (;;) {
        // Frames delivered before a fault come first: the output just before a failure matters.
        while (pending.length > 0) yield pending.shift()!;
        if (outcome !== undefined) break;
        res.resume();
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
      if (outcome.error !== undefined) throw outcome.error;
    } finally {
      res.destroy();
    }
  }
  let iterator: AsyncGenerator<LogFrame> | undefined;
  return {
    [Symbol.asyncIterator]: () => (iterator ??= frames()),
    forEach,
    pause: () => res.pause(),
    resume: () => res.resume(),
    destroy: () => res.destroy(),
  };
}

/** `http(s)://host:port` (a parsed DOCKER_HOST) as net.connect and tls.connect want it. */
function hostAndPort(baseUrl: string): { host: string; port: number } {
  const url = new URL(baseUrl);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
}

/** The error of one line of a pull's JSON progress stream, if it reports one. */
function progressError(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  let message: { error?: unknown; errorDetail?: { message?: unknown } };
  try {
    message = JSON.parse(line) as typeof message;
  } catch {
    return undefined; // progress we cannot read is still progress
  }
  if (typeof message.error === 'string' && message.error !== '') return message.error;
  if (typeof message.errorDetail?.message === 'string' && message.errorDetail.message !== '') return message.errorDetail.message;
  return undefined;
}

/**
 * X-Registry-Auth: base64url JSON, WITH padding. dockerd decodes it with Go's padded
 * base64.URLEncoding and, for a pull, silently drops credentials it cannot decode.
 */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

function refOf(image: string): ImageRef {
  const parsed = parseImageRef(image);
  if (!parsed.ok) throw new EngineError('E_ENGINE_STATUS', `${image} is not a valid image reference: ${parsed.reason}`);
  return parsed.ref;
}

/** An image reference in a URL path: slashes, colons and @ as they are (dockerd routes on them). */
function encodeRef(image: string): string {
  return encodeURIComponent(image).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new EngineError('E_ENGINE_STATUS', `${what}: the Docker engine's answer is not JSON: ${bodySnippet(body, 80)}`);
  }
}

/** The engine's `message` field, else the start of the body. */
function engineMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch { /* not JSON: fall through */ }
  return bodySnippet(body) || '(no message)';
}
