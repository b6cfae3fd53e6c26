// Follows one container's output and relays every line to SyslogAddr as one UDP datagram of
// JSON (docs/log-relay.md), optionally copying the records to the executor's stdout
// (ContainerLogsStdout). The I/O half of the relay: lines come from
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
import type * as dnsPromises from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../clock';
import { EngineError, type EngineApi, type LogStream } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import { LineSplitter } from './line-splitter';
import { catchUpLog, FrameMark, relayLogAfter } from './log-catch-up';
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
  engine: Pick<EngineApi, 'containerLogs' | 'inspectContainer'>;
  containerId: string;
  labels: Readonly<Record<string, string>>;
  settings: SyslogRelaySettings;
  logger: Logger;
  clock: Clock;
  /** Where ContainerLogsStdout copies go (the executor's stdout: fd-writer.ts, never throws). */
  stdout?: { write(data: string | Buffer): unknown };
  /** Cap on bytes queued in node:dgram, not yet given to the kernel; 256 KiB by default (10 MB budget). */
  maxQueuedBytes?: number;
  dropWarningIntervalMs?: number;
  /** How long the end waits for sends still in flight; 1 s by default. */
  drainTimeoutMs?: number;
  maxDatagramBytes?: number;
  /** First and largest delay between attempts to re-attach while the engine is away. */
  reattachBaseMs?: number;
  reattachMaxMs?: number;
  /** Makes the UDP socket; node:dgram by default (tests pass one whose sends queue). */
  createSocket?: (type: 'udp4' | 'udp6') => RelaySocket;
}

/** What the relay uses of a node:dgram socket. */
export interface RelaySocket {
  on(event: 'error', listener: (err: Error) => void): unknown;
  unref(): unknown;
  connect(port: number, address: string, callback: (err?: Error) => void): void;
  send(msg: Buffer, callback: (err: Error | null) => void): void;
  /** Bytes queued, not yet given to the kernel. */
  getSendQueueSize(): number;
  close(): void;
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
  /** Bytes queued in node:dgram and not yet given to the kernel: the gauge the cap applies to. */
  queuedBytes: number;
  peakQueuedBytes: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024;
const DEFAULT_DROP_WARNING_INTERVAL_MS = 10_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 1_000;
/** Sends awaiting node's completion callback before the log stream is paused (see #applyBackpressure). */
const MAX_SENDS_IN_FLIGHT = 4096;
/** Records are built into slabs of this size (a hundred short records each); at least one datagram. */
const SLAB_BYTES = 16 * 1024;

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
  #socket: RelaySocket | undefined;
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #lastWarnAt: number | undefined;
  #reported = { dropped: 0, sendErrors: 0, socketErrors: 0 };
  #lastError = '';
  #endReason = 'log stream ended';
  readonly #splitters: Record<StreamName, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  /** The stream of the frame being split (read by #onLine, so no closure per frame). */
  #frameStream: StreamName = 'stdout';
  /** Frames read from the container's log, for the catch-up after the stream ends. */
  readonly #seen = new FrameMark();
  /** The log stream while it is read, for pause()/resume(). */
  #logs: LogStream | undefined;
  #paused = false;
  /** Records are written here back to back; each datagram is a view of it. */
  #slab = Buffer.alloc(0);
  #slabAt = 0;

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

  /**
   * Follows the log until the container has exited and its output is relayed, or the relay is
   * stopped; then flushes partial lines. A stream that ends or breaks while the container still
   * runs is the Docker engine restarting (docs/faults.md, live-restore): the relay waits until the
   * engine answers, then follows again from where it was, skipping the frames it relayed.
   */
  async #pump(): Promise<void> {
    const { logger, clock, reattachBaseMs = 250, reattachMaxMs = 5000 } = this.#o;
    const signal = this.#abort.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      const outcome = await this.#follow();
      if (outcome === 'aborted' || outcome === 'gone') break;
      const state = await this.#containerState();
      if (state === 'aborted') break;
      if (state === 'exited') {
        if (outcome === 'ended') await this.#catchUp();
        else await this.#relayRest(false);
        break;
      }
      logger.info('Syslog relay follows the container logs again', { relayed_frames: this.#seen.count });
      // A stream that keeps breaking at once must not spin.
      await clock.sleep(Math.min(reattachMaxMs, reattachBaseMs * 2 ** Math.min(attempt, 8)), signal);
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of this.#splitters[stream].flush()) this.#relayBytes(line, 0, line.length, stream);
    }
  }

  /**
   * Reads one follow stream in push mode until it ends, breaks or the relay is stopped. Each
   * chunk of the HTTP response is split into frames, lines and records in one synchronous pass
   * (no promise nor closure per frame or line); backpressure pauses the stream instead (#send).
   */
  async #follow(): Promise<'ended' | 'broken' | 'aborted' | 'gone'> {
    const { engine, containerId, logger } = this.#o;
    const signal = this.#abort.signal;
    if (this.#seen.count > 0) return this.#relayRest(true);
    let logs: LogStream;
    try {
      // No `since`: everything from the container's start, as the Go original (since 0).
      const opening = Promise.resolve(engine.containerLogs(containerId, { follow: true, stdout: true, stderr: true }));
      const opened = await untilAborted(opening, signal);
      if (opened === 'aborted') {
        opening.then((late) => late.destroy(), () => undefined);
        return 'aborted';
      }
      logs = opened;
    } catch (err) {
      logger.warn('Syslog relay could not follow the container logs', { error: errorText(err) });
      return isGone(err) ? 'gone' : 'broken';
    }
    this.#logs = logs;
    try {
      // One promise for the whole stream; stop() must not wait for a reader destroy() does not wake.
      return await untilAborted(logs.forEach(this.#onFrame), signal) === 'aborted' ? 'aborted' : 'ended';
    } catch (err) {
      if (signal.aborted) return 'aborted';
      logger.warn('Syslog relay lost the container log stream', { error: errorText(err) });
      return 'broken';
    } finally {
      this.#logs = undefined;
      logs.destroy();
    }
  }

  /** The log after the frames already relayed: followed (re-attaching) or up to its end. */
  async #relayRest(follow: boolean): Promise<'ended' | 'broken' | 'aborted' | 'gone'> {
    const { engine, containerId, logger } = this.#o;
    const track = (logs: LogStream | undefined): void => { this.#logs = logs; };
    try {
      const reading = relayLogAfter(engine, containerId, this.#seen.count, this.#onFrame, track, follow);
      if (await untilAborted(reading, this.#abort.signal) === 'aborted') { this.#logs?.destroy(); return 'aborted'; }
      return 'ended';
    } catch (err) {
      if (this.#abort.signal.aborted) return 'aborted';
      logger.warn('Syslog relay could not read the container logs', { error: errorText(err) });
      return isGone(err) ? 'gone' : 'broken';
    }
  }

  /** Whether the container still runs, asked until the engine answers (or the relay stops). */
  async #containerState(): Promise<'running' | 'exited' | 'aborted'> {
    const { engine, containerId, clock, reattachBaseMs = 250, reattachMaxMs = 5000 } = this.#o;
    const signal = this.#abort.signal;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await engine.inspectContainer(containerId, { timeoutMs: 10_000, signal })).running ? 'running' : 'exited';
      } catch (err) {
        if (signal.aborted) return 'aborted';
        if (isGone(err)) return 'exited';
      }
      await clock.sleep(Math.min(reattachMaxMs, reattachBaseMs * 2 ** Math.min(attempt, 8)), signal);
      if (signal.aborted) return 'aborted';
    }
  }

  /** The follow stream ended: relays what Docker may have left out of it (log-catch-up.ts). */
  async #catchUp(): Promise<void> {
    const { engine, containerId, logger } = this.#o;
    const track = (logs: LogStream | undefined): void => { this.#logs = logs; };
    try {
      const catchingUp = catchUpLog(engine, containerId, this.#seen, this.#onFrame, track);
      const relayed = await untilAborted(catchingUp, this.#abort.signal);
      if (relayed === 'aborted') this.#logs?.destroy();
      else if (relayed > 0) logger.info('Syslog relay caught up with lines the Docker log stream left out', { frames: relayed, before: this.#seen.count - relayed });
    } catch (err) {
      if (!this.#abort.signal.aborted) logger.warn('Syslog relay could not read the rest of the container logs', { error: errorText(err) });
    }
  }

  readonly #onFrame = (stream: StreamName, bytes: Buffer, start: number, end: number): void => {
    if (this.#abort.signal.aborted) return;
    this.#seen.note(stream, bytes, start, end);
    this.#frameStream = stream;
    this.#splitters[stream].feed(bytes, start, end, this.#onLine);
  };

  readonly #onLine = (bytes: Buffer, start: number, end: number): void => {
    this.#relayBytes(bytes, start, end, this.#frameStream);
  };

  /** The relay's own records (the start announcement). */
  #relayLine(text: string, stream: StreamName): void {
    this.#stats.lines++;
    this.#emitBuilt(text, stream, this.#o.clock.now());
  }

  /** The general (string) path: escapes, non-ASCII, and lines split over several datagrams. */
  #emitBuilt(text: string, stream: StreamName, now: number): void {
    for (const record of this.#builder.build(text, stream, now)) this.#emit(Buffer.from(record), record);
  }

  /** One container line, `bytes[start..end)`: its record(s) built straight into the slab when it can. */
  #relayBytes(bytes: Buffer, start: number, end: number, stream: StreamName): void {
    this.#stats.lines++;
    const now = this.#o.clock.now();
    const max = this.#builder.maxDatagramBytes;
    if (this.#slab.length - this.#slabAt < max) {
      // Sends that completed synchronously are in the kernel already: with nothing queued the
      // slab is free again. A queued datagram still points into it, so then a new one is made.
      if (this.#slab.length < max || this.#socket?.getSendQueueSize() !== 0) this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, max));
      this.#slabAt = 0;
    }
    const at = this.#slabAt;
    const recordEnd = this.#builder.encodeInto(bytes, start, end, stream, now, this.#slab, at);
    if (recordEnd >= 0) {
      this.#slabAt = recordEnd;
      this.#emit(this.#slab.subarray(at, recordEnd), undefined);
      return;
    }
    this.#emitBuilt(bytes.toString('utf8', start, end), stream, now);
  }

  #emit(record: Buffer, text: string | undefined): void {
    if (this.#o.settings.containerLogsStdout) this.#o.stdout?.write(text ?? record);
    this.#send(record);
  }

  /**
   * Hands one datagram to node:dgram. On loopback, and wherever the kernel keeps up, the send
   * completes synchronously and nothing queues. When it does queue (libuv's send queue, the
   * bytes not yet given to the kernel): above half the cap the log stream is paused (the
   * engine keeps the output; the container is never blocked) and resumed below a quarter;
   * a datagram that would take the queue over the cap (the rest of a chunk already read) is
   * dropped and counted.
   */
  #send(record: Buffer): void {
    const stats = this.#stats;
    const socket = this.#socket;
    if (!socket || stats.queuedBytes + record.length > this.#maxQueuedBytes || this.#inFlight >= 2 * MAX_SENDS_IN_FLIGHT) {
      stats.dropped++;
      this.#maybeWarnLosses();
      return;
    }
    this.#inFlight++;
    try {
      socket.send(record, this.#afterSend);
    } catch (err) {
      this.#afterSend(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const queued = socket.getSendQueueSize();
    if (queued > 0) {
      stats.queuedBytes = queued;
      if (queued > stats.peakQueuedBytes) stats.peakQueuedBytes = queued;
    }
    this.#applyBackpressure();
  }

  /**
   * Pauses the log stream while too much waits on node:dgram: queued bytes over half the cap, or
   * more sends awaiting their completion than MAX_SENDS_IN_FLIGHT (each pins a request and its
   * datagram until node runs its callback); resumes once both are down to a quarter.
   */
  #applyBackpressure(): void {
    const stats = this.#stats;
    if (!this.#paused) {
      if (this.#logs && (stats.queuedBytes > this.#maxQueuedBytes / 2 || this.#inFlight > MAX_SENDS_IN_FLIGHT)) {
        this.#paused = true;
        this.#logs.pause();
      }
    } else if (stats.queuedBytes <= this.#maxQueuedBytes / 4 && this.#inFlight <= MAX_SENDS_IN_FLIGHT / 4) {
      this.#paused = false;
      this.#logs?.resume();
    }
  }

  /** The one completion callback for every datagram (no closure per send). */
  readonly #afterSend = (err: Error | null): void => {
    const stats = this.#stats;
    this.#inFlight--;
    if (err) this.#failed('sendErrors', err);
    else stats.sent++;
    if (stats.queuedBytes > 0) stats.queuedBytes = this.#socket?.getSendQueueSize() ?? 0;
    if (this.#paused) this.#applyBackpressure();
    if (this.#inFlight === 0) this.#onIdle?.();
  };

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
      // node:dns only for a host name: it costs memory every executor would pay.
      const resolved = isIP(host) ? { address: host } : await untilAborted((require('node:dns/promises') as typeof dnsPromises).lookup(host), this.#abort.signal);
      if (resolved === 'aborted') return;
      const { address } = resolved;
      const type = isIP(address) === 6 ? 'udp6' : 'udp4';
      // The address is resolved already; without its own lookup, dgram would load node:dns to
      // "resolve" the IP address (~0.15 MB).
      const socket: RelaySocket = this.#o.createSocket?.(type) ?? dgram.createSocket({ type, lookup: alreadyResolved });
      // Without a listener an 'error' event would crash the executor (the relay is best effort).
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
    // Whatever was still queued is gone with the socket.
    this.#stats.queuedBytes = 0;
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

/** dgram's lookup for an address that is already an IP address. */
function alreadyResolved(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  // dgram passes the socket's family as a number (node's typing says an options object).
  callback(null, address, family === 6 ? 6 : 4);
}

function isGone(err: unknown): boolean {
  return err instanceof EngineError && err.code === 'E_NO_SUCH_CONTAINER';
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    // An errno code (ECONNREFUSED) helps; our own stable codes (E_ENGINE_...) are for programs.
    const code = (err as NodeJS.ErrnoException).code;
    return code && !code.startsWith('E_') && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
