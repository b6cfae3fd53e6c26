// A Mesos agent double speaking the agent side of the v1 executor HTTP API
// (docs/status-updates.md), for tests of the executor. No real agent runs here, so this double must
// refuse whatever a real one refuses, with the same status code, or executor bugs ship. The rules
// and their sources (apache/ mesos):
//   - src/slave/http.cpp `Http::executor`: the order of checks and their status codes.
//   - src/common/validation.cpp `validateExecutorCall` (formerly src/slave/validation.cpp
//     `validation::executor::call::validate`): the per-call rules.
//   - 3rdparty/stout/include/stout/protobuf.hpp `protobuf::parse`: how JSON becomes a Call
//     (unknown fields ignored, an unknown *optional* enum silently dropped, a wrong JSON type or a
//     missing required field refused), and base64.hpp / uuid.hpp for `bytes` and the status uuid.
//   - 3rdparty/libprocess/src/jwt_authenticator.cpp: the 401s of executor authentication.
// Where the agent silently drops something (an unknown field or enum value), the call is accepted
// as the agent would accept it, and a note is kept on the recorded call so a test can still fail.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { encodeRecord } from '../../src/mesos/recordio';
import type { AgentEvent, KillPolicy, TaskInfo, TaskStatus } from '../../src/mesos/types';
import { FIXTURE_IDS, agentInfo, executorInfo, frameworkInfo, killPolicy } from './task-fixtures';
import { callSchema, parseProto, taskInfoSchema, type ProtoObject } from './mesos-proto';

export const EXECUTOR_API_PATH = '/api/v1/executor';
/** src/slave/constants.hpp EXECUTOR_HTTP_AUTHENTICATION_REALM. */
const EXECUTOR_REALM = 'mesos-agent-executor';

export interface MesosAgentDoubleOptions {
  frameworkId?: string;
  executorId?: string;
  agentId?: string;
  containerId?: string;
  /** agent_info.hostname and `hostname` in /state. */
  hostname?: string;
  /** `master_hostname` in /state; null leaves it out, as an agent without a master does. */
  masterHostname?: string | null;
  /** framework_info.capabilities in SUBSCRIBED, e.g. `[{ type: 'TASK_KILLING_STATE' }]`. */
  frameworkCapabilities?: { type: string }[];
  /** framework_info.checkpoint in SUBSCRIBED. */
  checkpoint?: boolean;
  /** When set, every executor call must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Delay before the ACKNOWLEDGED of an accepted update (the agent acks after checkpointing). */
  ackDelayMs?: number;
  withholdAcks?: boolean;
  /** The real agent sends HEARTBEAT every 30 minutes (DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL). */
  heartbeatIntervalMs?: number;
  port?: number;
}

export interface RecordedCall {
  readonly seq: number;
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly body: unknown;
  /** `type` of the call as sent, when readable. */
  readonly type: string | undefined;
  /** The response status; 0 when the double dropped the connection instead of answering. */
  status: number;
  /** Why the call was refused (the response body), for any status >= 400. */
  reason?: string;
  /** True when the refusal came from a failure knob, not from a rule of the agent. */
  injected: boolean;
  /** What the real agent would silently ignore or drop in this call. */
  readonly notes: string[];
}

export type FailureMode = 'unavailable' | 'drop';
export interface SendOptions { splitAt?: number[]; pauseMs?: number }
interface Verdict { status: number; reason?: string; headers?: Record<string, string> }
/** An accepted SUBSCRIBE, as the agent parsed it. */
interface Subscribe { subscribe: ProtoObject }

export class MesosAgentDouble {
  #writeLock: Promise<unknown> = Promise.resolve();
  readonly frameworkId: string;
  readonly executorId: string;
  readonly agentId: string;
  readonly containerId: string;
  readonly hostname: string;
  #masterHostname: string | null;
  readonly #options: MesosAgentDoubleOptions;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  #port: number;
  #listening = false;
  readonly #changes = new EventEmitter();
  readonly #calls: RecordedCall[] = [];
  readonly #sentEvents: AgentEvent[] = [];
  readonly #acks: { taskId: string; uuid: string; delivered: boolean }[] = [];
  #subscription: http.ServerResponse | undefined;
  /** Executor::REGISTERING until the first SUBSCRIBE; it stays known across drops and restarts. */
  #everSubscribed = false;
  /** Events for an executor that has not subscribed yet; the agent queues tasks the same way. */
  readonly #queued: AgentEvent[] = [];
  readonly #failures = new Map<string, { count: number; how: FailureMode }>();
  #ackDelayMs: number;
  #withholdAcks: boolean;
  readonly #withheld: { taskId: string; uuid: string }[] = [];
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #seq = 0;

  constructor(options: MesosAgentDoubleOptions = {}) {
    this.#options = options;
    this.frameworkId = options.frameworkId ?? FIXTURE_IDS.frameworkId;
    this.executorId = options.executorId ?? FIXTURE_IDS.executorId;
    this.agentId = options.agentId ?? FIXTURE_IDS.agentId;
    this.containerId = options.containerId ?? FIXTURE_IDS.containerId;
    this.hostname = options.hostname ?? 'agent-3.example.internal';
    this.#masterHostname = options.masterHostname === undefined ? 'mesos-master-1.example.internal' : options.masterHostname;
    this.#ackDelayMs = options.ackDelayMs ?? 0;
    this.#withholdAcks = options.withholdAcks ?? false;
    this.#port = options.port ?? 0;
    this.#changes.setMaxListeners(0);
    this.#server = http.createServer({ noDelay: true }, (req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: MesosAgentDoubleOptions = {}): Promise<MesosAgentDouble> {
    const agent = new MesosAgentDouble(options);
    await agent.start();
    return agent;
  }

  get port(): number { return this.#port; }
  /** host:port, the value of MESOS_AGENT_ENDPOINT. */
  get endpoint(): string { return `127.0.0.1:${this.#port}`; }
  get isSubscribed(): boolean { return this.#subscription !== undefined; }

  /** The variables the agent gives the executor process (docs/settings.md). */
  executorEnvironment(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {
      MESOS_AGENT_ENDPOINT: this.endpoint,
      MESOS_FRAMEWORK_ID: this.frameworkId,
      MESOS_EXECUTOR_ID: this.executorId,
      MESOS_CHECKPOINT: (this.#options.checkpoint ?? true) ? '1' : '0',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      TASK_HOST: this.hostname,
    };
    if (this.#options.authToken) env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN = this.#options.authToken;
    return { ...env, ...extra };
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.#listening) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#listening = true;
    const every = this.#options.heartbeatIntervalMs;
    if (every && !this.#heartbeatTimer) {
      this.#heartbeatTimer = setInterval(() => void this.heartbeat(), every);
      this.#heartbeatTimer.unref();
    }
  }

  /** Stops like a killed agent process: every connection, the subscription too, is cut. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await closed;
    this.#setSubscription(undefined);
  }

  /** Listens again on the same port; the executor stays known, as after an agent recovery. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops now and listens again after `ms`; resolves once listening again. */
  async refuseConnectionsFor(ms: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.start();
  }

  /** Destroys the subscription's socket (no chunked terminator), as a network failure would. */
  dropConnection(): void {
    this.#subscription?.socket?.destroy();
  }

  // ---- knobs -------------------------------------------------------------------------------

  /**
   * The next `count` calls of `type` fail: `unavailable` answers 503 "Agent has not finished
   * recovery" (what http.cpp answers while the agent recovers), `drop` destroys the connection.
   */
  failNext(type: 'SUBSCRIBE' | 'UPDATE' | 'MESSAGE', count: number, how: FailureMode = 'unavailable'): void {
    this.#failures.set(type, { count, how });
  }

  setAckDelay(ms: number): void { this.#ackDelayMs = ms; }
  setMasterHostname(hostname: string | null): void { this.#masterHostname = hostname; }

  withholdAcks(on = true): void { this.#withholdAcks = on; }

  /** Sends every withheld ACKNOWLEDGED now (and stops withholding). */
  async releaseAcks(): Promise<void> {
    this.#withholdAcks = false;
    for (const ack of this.#withheld.splice(0)) await this.#sendAck(ack.taskId, ack.uuid);
  }

  // ---- events to the executor --------------------------------------------------------------

  /**
   * Sends one event, RecordIO-framed: an object, or a raw string sent verbatim as the record.
   * `splitAt` cuts the framed bytes at those offsets into separate writes (HTTP chunks).
   * Resolves false when no subscription is open: the agent drops events it cannot send.
   */
  sendEvent(event: AgentEvent | Record<string, unknown> | string, options: SendOptions = {}): Promise<boolean> {
    return this.#exclusive(async () => {
      const framed = encodeRecord(typeof event === 'string' ? event : JSON.stringify(event));
      const cuts = [...new Set(options.splitAt ?? [])].filter((n) => n > 0 && n < framed.length).sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let from = 0;
      for (const cut of [...cuts, framed.length]) { pieces.push(framed.subarray(from, cut)); from = cut; }
      for (const [i, piece] of pieces.entries()) {
        if (i > 0 && options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
        if (!(await this.#write(piece))) return false;
      }
      if (typeof event !== 'string') this.#sentEvents.push(event as AgentEvent);
      return true;
    });
  }

  /** Several framed events in a single write (one HTTP chunk). */
  sendEventsInOneChunk(events: (AgentEvent | string)[]): Promise<boolean> {
    return this.#exclusive(async () => {
      const framed = events.map((e) => encodeRecord(typeof e === 'string' ? e : JSON.stringify(e)));
      if (!(await this.#write(Buffer.concat(framed)))) return false;
      for (const e of events) if (typeof e !== 'string') this.#sentEvents.push(e);
      return true;
    });
  }

  /** Writes bytes as they are on the subscription stream, for decoder edge cases. */
  sendRawBytes(bytes: Buffer | string): Promise<boolean> {
    return this.#exclusive(() => this.#write(bytes));
  }

  /**
   * Runs one sender at a time: the agent writes each event whole, so the pieces of a split event
   * must never interleave with another event (an ACKNOWLEDGED, say) on the stream.
   */
  #exclusive<T>(send: () => Promise<T>): Promise<T> {
    const run = this.#writeLock.then(send, send);
    this.#writeLock = run.catch(() => undefined);
    return run;
  }

  #write(bytes: Buffer | string): Promise<boolean> {
    const res = this.#subscription;
    if (!res || res.writableEnded || res.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => res.write(bytes, (err) => resolve(!err)));
  }

  /**
   * LAUNCH for a task; checked first against mesos.proto, since a real agent cannot send a
   * TaskInfo without its required fields. Before the first SUBSCRIBE the event is queued and
   * sent right after SUBSCRIBED, as the agent does for the task that started the executor.
   */
  async launch(task: TaskInfo): Promise<boolean> {
    const notes: string[] = [];
    // As it would travel: JSON drops `undefined` members.
    const parsed = parseProto(taskInfoSchema, JSON.parse(JSON.stringify(task)), notes);
    if (!parsed.ok) throw new Error(`launch(): a real agent could not send this TaskInfo: ${parsed.error}`);
    if ((task.executor === undefined) === (task.command === undefined)) {
      throw new Error('launch(): a task needs exactly one of `executor` and `command` (src/master/validation.cpp)');
    }
    const event: AgentEvent = { type: 'LAUNCH', launch: { task } };
    if (!this.#everSubscribed) { this.#queued.push(event); return true; }
    return this.sendEvent(event);
  }

  /** KILL; a number is a grace period in seconds. */
  kill(taskId: string, policy?: KillPolicy | number): Promise<boolean> {
    const kill: { task_id: { value: string }; kill_policy?: KillPolicy } = { task_id: { value: taskId } };
    if (policy !== undefined) kill.kill_policy = typeof policy === 'number' ? killPolicy(policy) : policy;
    return this.sendEvent({ type: 'KILL', kill });
  }

  shutdown(): Promise<boolean> { return this.sendEvent({ type: 'SHUTDOWN' }); }
  heartbeat(): Promise<boolean> { return this.sendEvent({ type: 'HEARTBEAT' }); }
  message(data: Buffer | string): Promise<boolean> {
    return this.sendEvent({ type: 'MESSAGE', message: { data: Buffer.from(data).toString('base64') } });
  }
  error(message: string): Promise<boolean> { return this.sendEvent({ type: 'ERROR', error: { message } }); }

  // ---- what the executor did ----------------------------------------------------------------

  /** Every request to the executor API, refused ones included, in arrival order. */
  calls(): RecordedCall[] { return this.#calls.filter((c) => c.path === EXECUTOR_API_PATH); }
  /** Refusals by an agent rule (not by a failure knob). A correct executor has none. */
  rejectedCalls(): RecordedCall[] { return this.calls().filter((c) => c.status >= 400 && !c.injected); }
  /** Calls the agent accepted but in which it would ignore or drop something. */
  notedCalls(): RecordedCall[] { return this.calls().filter((c) => c.notes.length > 0 && c.status < 400 && c.status > 0); }
  subscribeCalls(): RecordedCall[] { return this.calls().filter((c) => c.type === 'SUBSCRIBE' && c.status === 200); }
  /** The statuses of accepted UPDATE calls, in order, as sent. */
  updates(): TaskStatus[] {
    return this.calls().filter((c) => c.type === 'UPDATE' && c.status === 202).map((c) => (c.body as { update: { status: TaskStatus } }).update.status);
  }
  /** Every ACKNOWLEDGED the double produced; `delivered` is false when no subscription was open. */
  acknowledgements(): { taskId: string; uuid: string; delivered: boolean }[] { return [...this.#acks]; }
  sentEvents(): AgentEvent[] { return [...this.#sentEvents]; }
  stateRequests(): number { return this.#calls.filter((c) => c.path !== EXECUTOR_API_PATH).length; }

  /** Resolves with the `count`-th accepted SUBSCRIBE (1 = the first ever). */
  waitForSubscribe(count = 1, timeoutMs = 5000): Promise<RecordedCall> {
    return this.#waitFor(() => (this.#subscription ? this.subscribeCalls()[count - 1] : undefined), timeoutMs, `SUBSCRIBE #${count}`);
  }

  /** Resolves with the first accepted update (earliest first) matching the predicate. */
  waitForUpdate(predicate: (status: TaskStatus) => boolean, timeoutMs = 5000): Promise<TaskStatus> {
    return this.#waitFor(() => this.updates().find(predicate), timeoutMs, 'a matching UPDATE');
  }

  waitForCall(predicate: (call: RecordedCall) => boolean, timeoutMs = 5000): Promise<RecordedCall> {
    return this.#waitFor(() => this.calls().find(predicate), timeoutMs, 'a matching call');
  }

  /** Resolves once no subscription is open (the executor went away or the stream was cut). */
  waitForUnsubscribed(timeoutMs = 5000): Promise<true> {
    return this.#waitFor(() => (this.#subscription ? undefined : true), timeoutMs, 'the subscription to close');
  }

  #waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = probe();
        if (found === undefined) return;
        clearTimeout(timer);
        this.#changes.off('change', check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#changes.off('change', check);
        const seen = this.calls().map((c) => `${c.type ?? '?'}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
        reject(new Error(`MesosAgentDouble: no ${what} within ${timeoutMs} ms; calls so far: [${seen}]`));
      }, timeoutMs);
      this.#changes.on('change', check);
      check();
    });
  }

  // ---- the HTTP side ------------------------------------------------------------------------

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      req.socket.destroy(); // the client went away mid-request: nothing to answer
      return;
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    let body: unknown;
    try { body = JSON.parse(rawBody); } catch { body = undefined; }
    const type = typeof (body as { type?: unknown } | undefined)?.type === 'string' ? (body as { type: string }).type : undefined;
    const call: RecordedCall = {
      seq: ++this.#seq, at: Date.now(), method: req.method ?? '', path, headers: req.headers, rawBody, body, type,
      status: 0, injected: false, notes: [],
    };
    this.#calls.push(call);

    if (path === '/state' || path === '/state.json') {
      if (req.method === 'GET') this.#answer(res, call, { status: 200 }, JSON.stringify(this.#state()));
      else this.#answer(res, call, { status: 405, reason: 'Method Not Allowed', headers: { Allow: 'GET' } });
      return;
    }
    if (path !== EXECUTOR_API_PATH) { this.#answer(res, call, { status: 404, reason: 'Not Found' }); return; }

    const verdict = this.#judge(req, call);
    if (verdict === 'drop') { call.status = 0; req.socket.destroy(); this.#changed(); return; }
    if ('subscribe' in verdict) { this.#subscribe(res, call, verdict.subscribe); return; }
    this.#answer(res, call, verdict);
  }

  /** http.cpp `Http::executor`, in its order; authentication runs before it, in libprocess. */
  #judge(req: http.IncomingMessage, call: RecordedCall): Verdict | Subscribe | 'drop' {
    const auth = this.#authenticate(req.headers.authorization);
    if (auth) return auth;

    const failure = call.type ? this.#failures.get(call.type) : undefined;
    if (failure && failure.count > 0) {
      failure.count -= 1;
      call.injected = true;
      return failure.how === 'drop' ? 'drop' : { status: 503, reason: 'Agent has not finished recovery' };
    }

    if (req.method !== 'POST') return { status: 405, reason: `Expecting one of { 'POST' }, but received '${req.method}'`, headers: { Allow: 'POST' } };
    const contentType = req.headers['content-type'];
    if (contentType === undefined) return { status: 400, reason: "Expecting 'Content-Type' to be present" };
    // An exact comparison in http.cpp: `application/json; charset=utf-8` is a 415.
    if (contentType === 'application/x-protobuf') return { status: 415, reason: 'MesosAgentDouble speaks JSON only (a real agent would parse protobuf)' };
    if (contentType !== 'application/json') return { status: 415, reason: "Expecting 'Content-Type' of application/json or application/x-protobuf" };
    if (call.body === undefined) return { status: 400, reason: 'Failed to parse body into JSON: not valid JSON' };

    const notes: string[] = [];
    const parsed = parseProto(callSchema, call.body, notes);
    // Unknown fields in resent tasks are the agent's own (newer) fields echoed back: not a bug.
    call.notes.push(...notes.filter((n) => !n.startsWith('subscribe.unacknowledged_tasks.')));
    if (!parsed.ok) return { status: 400, reason: `Failed to convert JSON into Call protobuf: ${parsed.error}` };
    const problem = validateExecutorCall(parsed.value);
    if (problem) return { status: 400, reason: `Failed to validate Executor::Call: ${problem}` };

    const callType = parsed.value.type as string;
    if (callType === 'SUBSCRIBE' && !acceptsMediaType(req.headers.accept, 'application/json') && !acceptsMediaType(req.headers.accept, 'application/x-protobuf')) {
      return { status: 406, reason: "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'" };
    }
    // Returned before the id lookups: the executor library sends dummy ids in heartbeats.
    if (callType === 'HEARTBEAT') return { status: 202 };

    if (idOf(parsed.value.framework_id) !== this.frameworkId) return { status: 400, reason: 'Framework cannot be found' };
    if (idOf(parsed.value.executor_id) !== this.executorId) return { status: 400, reason: 'Executor cannot be found' };
    if (!this.#everSubscribed && callType !== 'SUBSCRIBE') return { status: 403, reason: 'Executor is not subscribed' };

    switch (callType) {
      case 'SUBSCRIBE': return { subscribe: parsed.value };
      case 'UPDATE': {
        const status = (parsed.value.update as ProtoObject).status as ProtoObject;
        this.#statusUpdate(status, call.notes);
        return { status: 202 };
      }
      case 'MESSAGE': return { status: 202 };
      default: return { status: 501, reason: 'Not Implemented' }; // UNKNOWN: "Received 'UNKNOWN' call"
    }
  }

  /** jwt_authenticator.cpp; the token stands for the agent-signed JWT of the executor. */
  #authenticate(header: string | undefined): Verdict | undefined {
    const token = this.#options.authToken;
    if (!token) return undefined;
    const challenge = (error?: string): Verdict => ({
      status: 401,
      reason: 'Unauthorized',
      headers: { 'WWW-Authenticate': `Bearer realm="${EXECUTOR_REALM}"${error ? `, error="invalid_token", error_description="${error}"` : ''}` },
    });
    if (header === undefined) return challenge(); // RFC 6750 §3.1: no error details
    const parts = header.split(' ');
    if (parts.length !== 2) return challenge("Malformed 'Authorization' header");
    if (parts[0] !== 'Bearer') return challenge(`Scheme '${parts[0]}' unsupported`);
    if (parts[1] !== token) return challenge('Invalid JWT: token does not match');
    return undefined;
  }

  /** Slave::subscribe for an HTTP executor: SUBSCRIBED, then queued tasks, then resent updates. */
  #subscribe(res: http.ServerResponse, call: RecordedCall, parsed: ProtoObject): void {
    call.status = 200;
    this.#subscription?.end(); // a re-subscription replaces the old connection
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.on('close', () => { if (this.#subscription === res) this.#setSubscription(undefined); });
    this.#everSubscribed = true;
    this.#subscription = res;
    const subscribed: AgentEvent = {
      type: 'SUBSCRIBED',
      subscribed: {
        executor_info: executorInfo({ executorId: this.executorId, frameworkId: this.frameworkId }),
        framework_info: frameworkInfo({ frameworkId: this.frameworkId, capabilities: this.#options.frameworkCapabilities, checkpoint: this.#options.checkpoint }),
        agent_info: agentInfo({ agentId: this.agentId, hostname: this.hostname }),
        container_id: { value: this.containerId },
      },
    };
    // sendEvent writes synchronously up to its first await: SUBSCRIBED is on the wire before
    // any waiter learns of the subscription, so nothing a test sends can overtake it.
    const written = this.sendEvent(subscribed);
    this.#changed();
    void (async () => {
      await written;
      for (const event of this.#queued.splice(0)) await this.sendEvent(event);
      // Each unacknowledged update goes through statusUpdate(), which acknowledges it again.
      const resent = ((parsed.subscribe as ProtoObject).unacknowledged_updates ?? []) as ProtoObject[];
      for (const update of resent) this.#statusUpdate(update.status as ProtoObject, call.notes);
    })();
  }

  #statusUpdate(status: ProtoObject, notes: string[]): void {
    const taskId = idOf(status.task_id);
    const launched = this.#sentEvents.some((e) => (e as { launch?: { task?: { task_id?: { value?: string } } } }).launch?.task?.task_id?.value === taskId);
    if (!launched) notes.push(`update for task '${taskId}', which this agent never launched (accepted: the agent forwards it anyway)`);
    const bytes = status.uuid as Buffer | undefined;
    if (!bytes || !isValidUuidBytes(bytes)) { notes.push(`resent update for task '${taskId}' without a valid uuid: not acknowledged`); return; }
    // The agent acks with the uuid bytes it decoded, re-encoded by stout (standard, padded).
    const uuid = bytes.toString('base64');
    if (this.#withholdAcks) { this.#withheld.push({ taskId, uuid }); return; }
    setTimeout(() => void this.#sendAck(taskId, uuid), this.#ackDelayMs);
  }

  async #sendAck(taskId: string, uuid: string): Promise<void> {
    const delivered = await this.sendEvent({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: taskId }, uuid } });
    this.#acks.push({ taskId, uuid, delivered });
    this.#changed();
  }

  #answer(res: http.ServerResponse, call: RecordedCall, verdict: Verdict, body?: string): void {
    call.status = verdict.status;
    if (verdict.status >= 400) call.reason = verdict.reason;
    const text = body ?? (verdict.status >= 400 ? verdict.reason ?? '' : '');
    const type = body !== undefined ? 'application/json' : 'text/plain; charset=utf-8';
    res.writeHead(verdict.status, { ...(text ? { 'Content-Type': type } : {}), ...verdict.headers });
    res.end(text);
    this.#changed();
  }

  /** The agent's /state (src/slave/http.cpp `Http::state`); master_hostname only with a master. */
  #state(): Record<string, unknown> {
    const state: Record<string, unknown> = {
      version: '1.11.0',
      build_date: '2020-11-24 17:02:03',
      build_time: 1606237323,
      build_user: 'mesos',
      start_time: 1700000000.5,
      id: this.agentId,
      pid: `slave(1)@127.0.0.1:${this.#port}`,
      hostname: this.hostname,
      capabilities: ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'],
      resources: { cpus: 8, mem: 15360, disk: 100000, gpus: 0, ports: '[31000-32000]' },
      attributes: {},
      flags: { port: '5051', executor_shutdown_grace_period: '5secs' },
      frameworks: [],
      completed_frameworks: [],
    };
    if (this.#masterHostname !== null) state.master_hostname = this.#masterHostname;
    return state;
  }

  #setSubscription(res: http.ServerResponse | undefined): void {
    this.#subscription = res;
    this.#changed();
  }

  #changed(): void { this.#changes.emit('change'); }
}

function idOf(id: unknown): string { return ((id as ProtoObject | undefined)?.value as string | undefined) ?? ''; }

/** src/common/validation.cpp `validateExecutorCall`, on the call as stout parsed it. */
export function validateExecutorCall(call: ProtoObject): string | undefined {
  if (call.type === undefined) return "Expecting 'type' to be present";
  const ids = `executor ${idOf(call.executor_id)} of framework ${idOf(call.framework_id)}`;
  switch (call.type) {
    case 'SUBSCRIBE': return call.subscribe === undefined ? "Expecting 'subscribe' to be present" : undefined;
    case 'MESSAGE': return call.message === undefined ? "Expecting 'message' to be present" : undefined;
    case 'UPDATE': {
      if (call.update === undefined) return "Expecting 'update' to be present";
      const status = (call.update as ProtoObject).status as ProtoObject;
      if (status.uuid === undefined) return "Expecting 'uuid' to be present";
      if (!isValidUuidBytes(status.uuid as Buffer)) return 'Not a valid UUID';
      if (status.executor_id !== undefined && idOf(status.executor_id) !== idOf(call.executor_id)) {
        return `ExecutorID in Call: ${idOf(call.executor_id)} does not match ExecutorID in TaskStatus: ${idOf(status.executor_id)}`;
      }
      // An unset (or dropped) `source` reads as its first value, SOURCE_MASTER.
      if (status.source !== 'SOURCE_EXECUTOR') return `Received Call from ${ids} with invalid source, expecting 'SOURCE_EXECUTOR'`;
      if (status.state === 'TASK_STAGING') return `Received TASK_STAGING from ${ids} which is not allowed`;
      if (status.check_status !== undefined) return checkStatusProblem(status.check_status as ProtoObject);
      return undefined;
    }
    default: return undefined; // HEARTBEAT, UNKNOWN
  }
}

/**
 * stout `id::UUID::fromBytes`: exactly 16 bytes, and boost's `version()` must not be
 * `version_unknown`, i.e. the high nibble of byte 6 is 1..5 (the boost 1.65 bundled with Mesos).
 * The variant bits are not looked at, so neither are they here.
 */
export function isValidUuidBytes(bytes: Buffer): boolean {
  if (bytes.length !== 16) return false;
  const version = bytes[6] >> 4;
  return version >= 1 && version <= 5;
}

/** src/common/validation.cpp `validateCheckStatusInfo`. */
function checkStatusProblem(check: ProtoObject): string | undefined {
  if (check.type === undefined) return "CheckStatusInfo must specify 'type'";
  const field = ({ COMMAND: 'command', HTTP: 'http', TCP: 'tcp' } as Record<string, string>)[check.type as string];
  if (!field) return `'${String(check.type)}' is not a valid check's status type`;
  return check[field] === undefined ? `Expecting '${field}' to be set for ${String(check.type)} check's status` : undefined;
}

/** libprocess `Request::acceptsMediaType`: no Accept header accepts everything; q=0 refuses. */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined) return true;
  const [type, subtype] = mediaType.split('/');
  return accept.split(',').some((range) => {
    const [media = '', ...params] = range.split(';').map((s) => s.trim());
    const q = params.find((p) => /^q=/i.test(p));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    const [t, s] = media.toLowerCase().split('/');
    return (t === '*' && s === '*') || (t === type && (s === '*' || s === subtype));
  });
}
