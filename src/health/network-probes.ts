// HTTP(S) and TCP health checks (docs/health-checks.md), run from the executor against the port the
// task listens on inside its container: the container's own address on BRIDGE and USER networks,
// the loopback with host networking, as Mesos's checker reaches it from the task's network
// namespace. HTTP: any status from 200 to 399 is healthy, as Mesos's built-in executors judge it
// (the `statuses` field is left alone, as they leave it); HTTPS is not verified, as Mesos's `curl
// -k`. TCP: an accepted connection is healthy.
import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { HttpError, requestStream } from '../http/http-request';
import type { HealthProbe, ProbeOutcome } from './check-monitor';
import type { AddressFamily, CheckProbeSpec } from './health-check-spec';

/** Finds the address to check; throws with the reason when there is none to reach. */
export interface CheckHost { resolve(family: AddressFamily, signal: AbortSignal): Promise<string> }

/** Enough of a health endpoint's body to see it answered; the rest is not read. */
const MAX_BODY_BYTES = 10 * 1024;

type HttpSpec = Extract<CheckProbeSpec, { kind: 'HTTP' }>;
type TcpSpec = Extract<CheckProbeSpec, { kind: 'TCP' }>;

const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export class HttpProbe implements HealthProbe {
  readonly #spec: HttpSpec;
  readonly #host: CheckHost;
  #url: string | undefined;

  constructor(spec: HttpSpec, host: CheckHost) {
    this.#spec = spec;
    this.#host = host;
  }

  get label(): string {
    const { scheme, port, path } = this.#spec;
    return `HTTP GET ${this.#url ?? `${scheme}://<container>:${port}${path}`}`;
  }

  async check(signal: AbortSignal): Promise<ProbeOutcome> {
    const { scheme, port, path, family } = this.#spec;
    this.#url = `${scheme}://${hostPort(await this.#host.resolve(family, signal), port)}${path}`;
    let res: IncomingMessage;
    try {
      res = await requestStream({ url: this.#url, signal, headers: { 'user-agent': 'sidecar-executor health check' }, tls: { rejectUnauthorized: false } });
    } catch (err) {
      return { healthy: false, detail: `failed: ${reasonOf(err)}` };
    }
    const status = res.statusCode ?? 0;
    await drain(res, signal);
    return { healthy: status >= 200 && status < 400, detail: `answered ${status}` };
  }
}

export class TcpProbe implements HealthProbe {
  readonly #spec: TcpSpec;
  readonly #host: CheckHost;
  #where: string | undefined;

  constructor(spec: TcpSpec, host: CheckHost) {
    this.#spec = spec;
    this.#host = host;
  }

  get label(): string {
    return `TCP connect to ${this.#where ?? `<container>:${this.#spec.port}`}`;
  }

  async check(signal: AbortSignal): Promise<ProbeOutcome> {
    const host = await this.#host.resolve(this.#spec.family, signal);
    this.#where = hostPort(host, this.#spec.port);
    return new Promise((resolve) => {
      const socket = net.connect({ host, port: this.#spec.port });
      const end = (outcome: ProbeOutcome): void => {
        signal.removeEventListener('abort', aborted);
        socket.destroy();
        resolve(outcome);
      };
      const aborted = (): void => end({ healthy: false, detail: 'was abandoned' });
      signal.addEventListener('abort', aborted, { once: true });
      socket.once('connect', () => end({ healthy: true, detail: 'succeeded' }));
      socket.once('error', (err: NodeJS.ErrnoException) => end({ healthy: false, detail: `failed: ${err.code ?? err.message}` }));
    });
  }
}

/** Reads and drops the body (up to MAX_BODY_BYTES), so the server sees a whole exchange. */
function drain(res: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', done);
      res.destroy();
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    res.on('data', (chunk: Buffer) => { bytes += chunk.length; if (bytes > MAX_BODY_BYTES) done(); });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  if (err instanceof HttpError && cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}
