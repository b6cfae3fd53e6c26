// Sidecar's HTTP API as the executor uses it (docs/health-checks.md): the state dump for health
// checks and the drain call before a kill. Every outcome is a value, never a throw: a Sidecar
// outage must read as doubt (healthy), and a failed drain must not stop the kill that follows it.
import type { Clock } from '../clock';
import { bodySnippet, HttpError, request } from '../http/http-request';
import type { Logger } from '../logging/logger';

export type FetchStateResult =
  /** `recovered`: an earlier attempt of this fetch could not reach Sidecar (it is coming back). */
  | { readonly ok: true; readonly state: unknown; readonly recovered?: boolean }
  /** `unreachable`: Sidecar could not be reached at all (refused, timed out), not a bad answer. */
  | { readonly ok: false; readonly why: string; readonly unreachable?: boolean };

/** What the executor calls on Sidecar; the monitor and the kill path each use one method. */
export interface SidecarApi {
  fetchState(signal?: AbortSignal): Promise<FetchStateResult>;
  drain(serviceId: string, signal?: AbortSignal): Promise<boolean>;
}

export interface SidecarClientOptions {
  /** EXECUTOR_SIDECAR_URL, the state dump (http://localhost:7777/state.json by default). */
  readonly sidecarUrl: string;
  readonly httpTimeoutMs: number;
  readonly retryCount: number;
  readonly retryDelayMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** One attempt's outcome; `retry` is false for an answer that another try would not change. */
type Attempt<T> = { ok: true; value: T } | { ok: false; why: string; retry: boolean; unreachable?: boolean };

const ABORTED = 'stopped before Sidecar answered';

function failureOf(err: unknown): { why: string; retry: boolean; unreachable?: boolean } {
  if (err instanceof HttpError) {
    if (err.code === 'E_HTTP_ABORTED') return { why: ABORTED, retry: false };
    const kind = err.code === 'E_HTTP_TIMEOUT' ? 'timed out' : 'unreachable';
    return { why: `Sidecar ${kind}: ${err.message}`, retry: true, unreachable: err.code === 'E_HTTP_TIMEOUT' || err.code === 'E_HTTP_CONNECT' };
  }
  return { why: `Sidecar request failed: ${err instanceof Error ? err.message : String(err)}`, retry: true };
}

export class SidecarClient implements SidecarApi {
  readonly #options: SidecarClientOptions;
  readonly #drainBase: string;

  constructor(options: SidecarClientOptions) {
    this.#options = options;
    // The drain endpoint lives beside the state dump: keep only scheme://host:port of SidecarUrl,
    // as the Go original's notifyDrain does.
    const url = new URL(options.sidecarUrl);
    this.#drainBase = `${url.protocol}//${url.host}`;
  }

  /**
   * GETs the state dump, tried 1 + retryCount times retryDelay apart, each bounded by
   * httpTimeout. Unreachable, timed out, 5xx and unparsable answers are retried; a 4xx is a
   * definite answer (a wrong SidecarUrl) and is not. Resolves with the reason on failure.
   */
  async fetchState(signal?: AbortSignal): Promise<FetchStateResult> {
    let recovered = false;
    const result = await this.#withRetries('fetch state from Sidecar', signal, (failed) => { recovered ||= failed.unreachable === true; }, async (): Promise<Attempt<unknown>> => {
      const res = await request({ url: this.#options.sidecarUrl, timeoutMs: this.#options.httpTimeoutMs, signal });
      if (res.status < 200 || res.status > 299) {
        return { ok: false, why: `Sidecar answered HTTP ${res.status}: ${bodySnippet(res.body)}`, retry: res.status >= 500 };
      }
      try {
        return { ok: true, value: JSON.parse(res.body.toString('utf8')) as unknown };
      } catch {
        return { ok: false, why: `Sidecar's answer is not JSON: ${bodySnippet(res.body, 80)}`, retry: true };
      }
    });
    return result.ok ? { ok: true, state: result.value, recovered } : { ok: false, why: result.why, unreachable: result.unreachable === true };
  }

  /**
   * POSTs /api/services/<id>/drain; only 202 is success (Sidecar's drainServiceHandler). Tried
   * 1 + retryCount times retryDelay apart; a 4xx (404: Sidecar does not know the service on its
   * host) is final, so a kill is not held up by retries that cannot succeed.
   */
  async drain(serviceId: string, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.#drainBase}/api/services/${encodeURIComponent(serviceId)}/drain`;
    this.#options.logger.warn(`Setting service ID ${JSON.stringify(serviceId)} status to DRAINING in Sidecar`);
    const result = await this.#withRetries('set service to DRAINING in Sidecar', signal, () => undefined, async (): Promise<Attempt<true>> => {
      const res = await request({ method: 'POST', url, body: '', timeoutMs: this.#options.httpTimeoutMs, signal });
      if (res.status === 202) return { ok: true, value: true };
      return { ok: false, why: `Sidecar answered HTTP ${res.status}: ${bodySnippet(res.body)}`, retry: res.status < 400 || res.status >= 500 };
    });
    if (!result.ok) {
      this.#options.logger.error(`Could not set service ${serviceId} to DRAINING in Sidecar: ${result.why}`);
      return false;
    }
    this.#options.logger.info(`Service ${serviceId} set to DRAINING in Sidecar`);
    return true;
  }

  /** `onRetry` sees each failed attempt that is retried. */
  async #withRetries<T>(
    what: string, signal: AbortSignal | undefined, onRetry: (failed: Attempt<T> & { ok: false }) => void, attempt: () => Promise<Attempt<T>>,
  ): Promise<Attempt<T>> {
    const { retryCount, retryDelayMs, clock, logger } = this.#options;
    const tries = 1 + Math.max(0, retryCount);
    let last: Attempt<T> = { ok: false, why: ABORTED, retry: false };
    for (let i = 1; i <= tries; i++) {
      if (signal?.aborted) return { ok: false, why: ABORTED, retry: false };
      try {
        last = await attempt();
      } catch (err) {
        last = { ok: false, ...failureOf(err) };
      }
      if (last.ok || !last.retry) return last;
      onRetry(last);
      logger.warn(`Failed ${i} attempts to ${what}!`, { reason: last.why });
      // No sleep after the last try: the Go original slept there too, delaying every verdict.
      if (i < tries) await clock.sleep(retryDelayMs, signal);
    }
    return signal?.aborted ? { ok: false, why: ABORTED, retry: false } : last;
  }
}
