// Follows one container's output and relays every line to SyslogAddr as one UDP datagram of
// JSON (CONTRACT §9), optionally copying the records to the executor's stdout
// (ContainerLogsStdout, CONTRACT §2). The I/O half of the relay: lines come from
// line-splitter.ts, records from relay-record.ts.
//
// (better) than the Go original, which ran unbounded and could crash the executor:
// - a flood never grows memory: bytes handed to node:dgram and not yet sent are capped
//   (maxQueuedBytes); beyond the cap a datagram is dropped and counted, and the count is logged
//   at most once per dropWarningIntervalMs instead of once per drop;
// - send errors (ECONNREFUSED from an ICMP port-unreachable, an unresolvable SyslogAddr) are
//   counted and logged the same way, and never stop the relay or the executor (Go log.Fatal'd
//   when it could not dial);
// - the last lines before the container exits, often why it failed, are flushed and their sends
//   awaited (bounded by drainTimeoutMs) before the socket closes.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../clock';
import type { EngineApi, LogFrame } from '../docker/engine-api';
import type { Logger } from '../log/logger';
import { LineSplitter } from './line-splitter';
import { RelayRecordBuilder, type StreamName } from './relay-record';
import { parseSyslogAddress } from './syslog-address';

export interface SyslogRelaySettings {
  syslogAddr: string;
  logHostname: string;
  sendDockerLabels: readonly string[];
  relaySyslogStartupOnly: boolean;
  relaySyslogStartupTimeMs: number;
  containerLogsStdout: boolean;
}

export interface SyslogRelayOptions {
  engine: Pick<EngineApi, 'containerLogs'>;
  containerId: string;
  labels: Readonly<Record<string, string>>;
  settings: SyslogRelaySettings;
  logger: Logger;
  clock: Clock;
  /** Where ContainerLogsStdout copies go; process.stdout by default. */
  stdout?: { write(s: string): void };
  /** Cap on bytes given to node:dgram and not yet sent; 256 KiB by default (10 MB budget). */
  maxQueuedBytes?: number;
  dropWarningIntervalMs?: number;
  /** How long the end waits for sends still in flight; 1 s by default. */
  drainTimeoutMs?: number;
  maxDatagramBytes?: number;
}

export interface RelayStats {
  /** Lines read from the container (a line too long for one datagram makes several records). */
  lines: number;
  /** Datagrams handed to the kernel. sent + dropped + sendErrors = records built. */
  sent: number;
  /** Datagrams not sent: the queue was full, or no socket. */
  dropped: number;
  /** Datagrams whose send failed (EMSGSIZE and the like). */
  sendErrors: number;
  /** Errors the socket reported later, not tied to one datagram: ECONNREFUSED from ICMP. */
  socketErrors: number;
  /** Bytes handed to node:dgram and not yet sent: the gauge the cap applies to. */
  queuedBytes: number;
  peakQueuedBytes: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024;
const DEFAULT_DROP_WARNING_INTERVAL_MS = 10_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 1_000;

export class SyslogRelay {
  /** Resolves once the relay has ended (stream end, startup cut-off, stop()); never rejects. */
  readonly done: Promise<void>;
  readonly #o: SyslogRelayOptions;
  readonly #builder: RelayRecordBuilder;
  readonly #maxQueuedBytes: number;
  readonly #warnIntervalMs: number;
  readonly #abort = new AbortController();
  readonly #stats: RelayStats = { lines: 0, sent: 0, dropped: 0, sendErrors: 0, socketErrors: 0, queuedBytes: 0, peakQueuedBytes: 0 };
  #resolveDone!: () => void;
  #started = false;
  #socket: dgram.Socket | undefined;
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #lastWarnAt: number | undefined;
  #reported = { dropped: 0, sendErrors: 0, socketErrors: 0 };
  #lastError = '';
  #endReason = 'log stream ended';

  constructor(options: SyslogRelayOptions) {
    this.#o = options;
    this.#builder = new RelayRecordBuilder({
      hostname: options.settings.logHostname,
      sendDockerLabels: options.settings.sendDockerLabels,
      labels: options.labels,
      ...(options.maxDatagramBytes !== undefined ? { maxDatagramBytes: options.maxDatagramBytes } : {}),
    });
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#warnIntervalMs = options.dropWarningIntervalMs ?? DEFAULT_DROP_WARNING_INTERVAL_MS;
    this.done = new Promise((resolve) => { this.#resolveDone = resolve; });
  }

  stats(): RelayStats { return { ...this.#stats }; }

  /** Starts following the logs; a second call does nothing. Watch `done` for the end. */
  start(): void {
    if (this.#started || this.#abort.signal.aborted) return;
    this.#started = true;
    void this.#run().finally(() => this.#resolveDone());
  }

  /** Stops relaying (flushing what was read) and resolves once the relay has ended. Idempotent. */
  async stop(): Promise<void> {
    this.#finish('stopped');
    if (!this.#started) this.#resolveDone();
    await this.done;
  }

  #finish(reason: string): void {
    if (this.#abort.signal.aborted) return;
    this.#endReason = reason;
    this.#abort.abort();
  }

  async #run(): Promise<void> {
    const { logger, settings, clock } = this.#o;
    try {
      await this.#openSocket();
      if (this.#abort.signal.aborted) return;
      // The Go original announced every relay with this record; dashboards may count on it.
      this.#relayLine(`sidecar-executor starting log pump for '${this.#o.containerId.slice(0, 12)}'`, 'stdout');
      logger.info('Started syslog log pump', { syslogAddr: settings.syslogAddr });
      if (settings.relaySyslogStartupOnly) {
        void clock.sleep(settings.relaySyslogStartupTimeMs, this.#abort.signal)
          .then(() => this.#finish('RelaySyslogStartupTime is over'));
      }
      await this.#pump();
    } finally {
      // Also ends the startup cut-off timer, which would otherwise hold the event loop.
      this.#finish(this.#endReason);
      await this.#drain();
      this.#closeSocket();
      const { lines, sent, dropped, sendErrors, socketErrors } = this.#stats;
      const r = this.#reported;
      if (dropped > r.dropped || sendErrors > r.sendErrors || socketErrors > r.socketErrors) this.#warnLosses();
      logger.info('Syslog log pump exited', { reason: this.#endReason, lines, sent, dropped, sendErrors, socketErrors });
    }
  }

  /** Reads frames until the stream ends or the relay is stopped; then flushes partial lines. */
  async #pump(): Promise<void> {
    const { engine, containerId, logger } = this.#o;
    const signal = this.#abort.signal;
    let logs: Awaited<ReturnType<typeof engine.containerLogs>>;
    try {
      // No `since`: everything from the container's start, as the Go original (since 0).
      const opening = Promise.resolve(engine.containerLogs(containerId, { follow: true, stdout: true, stderr: true }));
      const opened = await untilAborted(opening, signal);
      if (opened === 'aborted') {
        opening.then((late) => late.destroy(), () => undefined);
        return;
      }
      logs = opened;
    } catch (err) {
      this.#finish('could not follow the container logs');
      logger.warn('Syslog relay could not follow the container logs', { error: errorText(err) });
      return;
    }
    const splitters: Record<StreamName, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const frames = logs[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await untilAborted(frames.next(), signal);
        if (next === 'aborted' || next.done) break;
        const frame: LogFrame = next.value;
        for (const line of splitters[frame.stream].push(frame.data)) this.#relayLine(line.toString('utf8'), frame.stream);
      }
    } catch (err) {
      if (!signal.aborted) logger.warn('Syslog relay lost the container log stream', { error: errorText(err) });
    } finally {
      logs.destroy();
      void frames.return?.().catch(() => undefined);
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of splitters[stream].flush()) this.#relayLine(line.toString('utf8'), stream);
    }
  }

  #relayLine(text: string, stream: StreamName): void {
    this.#stats.lines++;
    for (const record of this.#builder.build(text, stream, this.#o.clock.now())) {
      if (this.#o.settings.containerLogsStdout) (this.#o.stdout ?? process.stdout).write(record);
      this.#send(record);
    }
  }

  #send(record: string): void {
    const stats = this.#stats;
    const socket = this.#socket;
    // Measured before any copy, so a dropped record costs no allocation (a flood is mostly drops).
    const size = Buffer.byteLength(record);
    if (!socket || stats.queuedBytes + size > this.#maxQueuedBytes) {
      stats.dropped++;
      this.#maybeWarnLosses();
      return;
    }
    stats.queuedBytes += size;
    stats.peakQueuedBytes = Math.max(stats.peakQueuedBytes, stats.queuedBytes);
    this.#inFlight++;
    const done = (err: Error | null): void => {
      stats.queuedBytes -= size;
      this.#inFlight--;
      if (err) this.#failed('sendErrors', err);
      else stats.sent++;
      if (this.#inFlight === 0) this.#onIdle?.();
    };
    try {
      socket.send(record, (err) => done(err));
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #failed(kind: 'sendErrors' | 'socketErrors', err: unknown): void {
    this.#stats[kind]++;
    this.#lastError = errorText(err);
    this.#maybeWarnLosses();
  }

  #maybeWarnLosses(): void {
    const now = this.#o.clock.now();
    if (this.#lastWarnAt !== undefined && now - this.#lastWarnAt < this.#warnIntervalMs) return;
    this.#lastWarnAt = now;
    this.#warnLosses();
  }

  /** One warning for all losses since the last one, so a flood costs one line per interval. */
  #warnLosses(): void {
    const { dropped, sendErrors, socketErrors } = this.#stats;
    const r = this.#reported;
    this.#o.logger.warn('Syslog relay is losing log lines', {
      dropped: dropped - r.dropped,
      sendErrors: sendErrors - r.sendErrors,
      socketErrors: socketErrors - r.socketErrors,
      droppedTotal: dropped,
      lastError: this.#lastError || undefined,
    });
    this.#reported = { dropped, sendErrors, socketErrors };
  }

  async #openSocket(): Promise<void> {
    const { settings, logger } = this.#o;
    try {
      const { host, port } = parseSyslogAddress(settings.syslogAddr);
      // Resolved once, not per datagram; a connected socket also reports ICMP refusals.
      const resolved = isIP(host) ? { address: host } : await untilAborted(lookup(host), this.#abort.signal);
      if (resolved === 'aborted') return;
      const { address } = resolved;
      const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
      // Without a listener an 'error' event would crash the executor (CONTRACT §9 is best effort).
      socket.on('error', (err) => this.#failed('socketErrors', err));
      socket.unref();
      await new Promise<void>((resolve, reject) => {
        socket.connect(port, address, (err?: Error) => (err ? reject(err) : resolve()));
      }).catch((err: unknown) => { socket.close(); throw err; });
      this.#socket = socket;
    } catch (err) {
      this.#lastError = errorText(err);
      logger.warn('Syslog relay cannot reach SyslogAddr; lines will not be sent', { syslogAddr: settings.syslogAddr, error: this.#lastError });
    }
  }

  /** Waits (bounded) for datagrams still in flight, so the container's last lines go out. */
  async #drain(): Promise<void> {
    if (this.#inFlight === 0) return;
    const timeout = new AbortController();
    this.#onIdle = () => timeout.abort();
    await this.#o.clock.sleep(this.#o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, timeout.signal);
    this.#onIdle = undefined;
  }

  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    try { socket?.close(); } catch { /* already closed */ }
  }
}

/**
 * The promise's value, or 'aborted' as soon as stop() is called: stop() must not wait on an
 * engine that never answers, nor on a reader that destroy() does not wake. Not Promise.race
 * against one long-lived promise: each race would leave a reaction on it, and over a
 * container's life (millions of frames) those pile up without bound.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (result) => { signal.removeEventListener('abort', onAbort); resolve(result); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
