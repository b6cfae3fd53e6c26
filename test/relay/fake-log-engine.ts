// An in-process stand-in for EngineApi.containerLogs with named knobs (a hand-written fake),
// and a real UDP listener on 127.0.0.1 port 0 to receive what the relay sends.
import dgram from 'node:dgram';
import { EngineError, type ContainerState, type LogFrame, type LogFrameSink, type LogsOptions, type LogStream, type RequestBounds } from '../../src/docker/engine-api';

interface Waiter { resolve: (result: IteratorResult<LogFrame>) => void; reject: (err: Error) => void }

/** A log stream the test drives: push frames, then end() it or fail() it. */
export class FakeLogEngine {
  /** Knob: containerLogs rejects with this error. */
  containerLogsShouldFail: Error | undefined;
  /** Knob: containerLogs does not answer until release() (an engine that hangs). */
  containerLogsHangs = false;
  /** Knob: destroy() is recorded but does not wake a pending read (a stuck engine). */
  destroyDoesNotWake = false;
  /** Knob: frames come from this source instead of push() (for floods). */
  source: AsyncIterable<LogFrame> | undefined;

  /** Knob: whether inspection says the container runs; by default, until the follow stream ends. */
  running: boolean | undefined;
  /** Knob: inspection fails with this (an engine that is away). */
  inspectShouldFail: Error | undefined;
  readonly inspections: string[] = [];

  readonly calls: { id: string; options: LogsOptions }[] = [];
  #followed = false;
  /** How many times the reader paused the stream (backpressure). */
  pauses = 0;
  destroyed = false;
  #queue: LogFrame[] = [];
  /** Every frame pushed, or only logged: what a read without follow returns. */
  readonly #log: LogFrame[] = [];
  #ended = false;
  #error: Error | undefined;
  #waiter: Waiter | undefined;

  push(stream: LogFrame['stream'], data: string | Buffer): void {
    const frame = { stream, data: typeof data === 'string' ? Buffer.from(data) : data };
    this.#log.push(frame);
    if (this.#waiter) this.#wake((w) => w.resolve({ value: frame, done: false }));
    else this.#queue.push(frame);
  }

  /** Knob: a frame in the log that the follow stream leaves out (Docker ending it early). */
  logOnly(stream: LogFrame['stream'], data: string): void {
    this.#log.push({ stream, data: Buffer.from(data) });
  }

  end(): void {
    this.#ended = true;
    this.#wake((w) => w.resolve({ value: undefined, done: true }));
  }

  fail(err: Error): void {
    this.#error = err;
    this.#wake((w) => w.reject(err));
  }

  #release: (() => void) | undefined;

  /** Lets a hanging containerLogs answer. */
  release(): void { this.#release?.(); }

  async containerLogs(id: string, options: LogsOptions): Promise<LogStream> {
    this.calls.push({ id, options });
    if (this.containerLogsHangs) await new Promise<void>((resolve) => { this.#release = resolve; });
    if (this.containerLogsShouldFail) throw this.containerLogsShouldFail;
    const source = this.source;
    const destroy = (): void => {
      this.destroyed = true;
      // Wakes the reader only: a reader going away does not end the container's log.
      if (!this.destroyDoesNotWake) this.#wake((w) => w.resolve({ value: undefined, done: true }));
    };
    if (source) {
      // The source running out is the container's output ending: the container has exited.
      const self = this;
      return this.#stream((async function* () { yield* source; self.#ended = true; })(), destroy);
    }
    if (options.follow === true) {
      // Following again (after a break): the engine serves the log from its start, as dockerd does.
      if (this.#followed) { this.#queue = [...this.#log]; this.#error = undefined; }
      this.#followed = true;
    }
    if (options.follow !== true) {
      const frames = options.tail === undefined ? [...this.#log] : this.#log.slice(-options.tail);
      return this.#stream((async function* () { yield* frames; })(), () => undefined);
    }
    const next = (): Promise<IteratorResult<LogFrame>> => {
      const frame = this.#queue.shift();
      if (frame) return Promise.resolve({ value: frame, done: false });
      if (this.#error) return Promise.reject(this.#error);
      if (this.#ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => { this.#waiter = { resolve, reject }; });
    };
    return this.#stream({ [Symbol.asyncIterator]: () => ({ next }) }, destroy);
  }

  async inspectContainer(id: string, _bounds?: RequestBounds): Promise<ContainerState> {
    this.inspections.push(id);
    if (this.inspectShouldFail) throw this.inspectShouldFail;
    if (id === 'gone') throw new EngineError('E_NO_SUCH_CONTAINER', `No such container: ${id}`, 404);
    const running = this.running ?? !this.#ended;
    return { id, running, exitCode: running ? 0 : 1, oomKilled: false, removing: false, error: '', labels: {}, env: [] };
  }

  /** A LogStream over frames pulled one by one; in push mode a paused stream pulls nothing. */
  #stream(frames: AsyncIterable<LogFrame>, destroy: () => void): LogStream {
    let paused = false;
    let wake: (() => void) | undefined;
    return {
      [Symbol.asyncIterator]: () => frames[Symbol.asyncIterator](),
      forEach: async (onFrame: LogFrameSink): Promise<void> => {
        for await (const frame of frames) {
          onFrame(frame.stream, frame.data, 0, frame.data.length);
          while (paused) await new Promise<void>((resolve) => { wake = resolve; });
        }
      },
      pause: () => { if (!paused) this.pauses++; paused = true; },
      resume: () => { paused = false; wake?.(); wake = undefined; },
      destroy,
    };
  }

  #wake(fn: (w: Waiter) => void): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) fn(waiter);
  }
}

/** A UDP listener on the loopback address, port 0, that keeps every datagram it receives. */
export class UdpListener {
  readonly messages: Buffer[] = [];
  /** Datagrams received, kept or not. */
  count = 0;
  #socket: dgram.Socket;
  #onMessage: (() => void) | undefined;

  /** With keep false only `count` grows: a flood test must not measure its own listener's memory. */
  private constructor(socket: dgram.Socket, keep: boolean) {
    this.#socket = socket;
    socket.on('message', (msg) => { this.count++; if (keep) this.messages.push(msg); this.#onMessage?.(); });
  }

  static async open(type: 'udp4' | 'udp6' = 'udp4', address = type === 'udp4' ? '127.0.0.1' : '::1', keep = true): Promise<UdpListener> {
    const socket = dgram.createSocket(type);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => { socket.off('error', reject); resolve(); });
    });
    return new UdpListener(socket, keep);
  }

  get port(): number { return this.#socket.address().port; }

  /** The datagrams as parsed JSON records. */
  records(): Record<string, string>[] {
    return this.messages.map((m) => JSON.parse(m.toString('utf8')) as Record<string, string>);
  }

  /** Resolves once `count` datagrams have arrived; rejects after timeoutMs. */
  waitFor(count: number, timeoutMs = 2000): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onMessage = undefined;
        reject(new Error(`got ${this.messages.length} of ${count} datagrams`));
      }, timeoutMs);
      this.#onMessage = () => {
        if (this.messages.length < count) return;
        clearTimeout(timer);
        this.#onMessage = undefined;
        resolve();
      };
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/**
 * A real UDP socket whose sends queue, as node:dgram's do when the kernel refuses more (a slow
 * network): `perTurn` datagrams go out per event-loop turn, the rest wait and count in
 * getSendQueueSize(). On loopback the kernel takes every datagram at once, so nothing queues.
 */
export class SlowSocket {
  readonly #socket = dgram.createSocket('udp4');
  readonly #queue: { msg: Buffer; callback: (err: Error | null) => void }[] = [];
  #queued = 0;
  #timer: NodeJS.Immediate | undefined;
  peakQueued = 0;

  constructor(readonly perTurn: number) {}

  on(event: 'error', listener: (err: Error) => void): this { this.#socket.on(event, listener); return this; }
  unref(): this { this.#socket.unref(); return this; }
  connect(port: number, address: string, callback: (err?: Error) => void): void { this.#socket.connect(port, address, callback); }
  getSendQueueSize(): number { return this.#queued; }

  send(msg: Buffer, callback: (err: Error | null) => void): void {
    this.#queue.push({ msg, callback });
    this.#queued += msg.length;
    this.peakQueued = Math.max(this.peakQueued, this.#queued);
    this.#timer ??= setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#timer = undefined;
    for (const { msg, callback } of this.#queue.splice(0, this.perTurn)) {
      this.#queued -= msg.length;
      this.#socket.send(msg, (err) => callback(err ?? null));
    }
    if (this.#queue.length > 0) this.#timer = setImmediate(() => this.#turn());
  }

  close(): void {
    if (this.#timer) clearImmediate(this.#timer);
    for (const { callback } of this.#queue.splice(0)) callback(new Error('socket closed'));
    this.#queued = 0;
    this.#socket.close();
  }
}
