// A Mesos agent double speaking the agent side of the v1 executor HTTP API (CONTRACT §3), for
// tests of the executor. No real agent runs here, so this double must refuse whatever a real one
// refuses, with the same status code, or executor bugs ship. The rules and their sources (apache/
// mesos):
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

  /** The variables the agent gives the executor process (CONTRACT §1). */
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
  async sendEvent(event: AgentEvent | Record<string, unknown> | string, options: SendOptions = {}): Promise<boolean> {
    const framed = encodeRecord(typeof event === 'string' ? event : JSON.stringify(event));
    const cuts = [...new Set(options.splitAt ?? [])].filter((n) => n > 0 && n < framed.length).sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const cut of [...cuts, framed.length]) { pieces.push(framed.subarray(from, cut)); from = cut; }
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      if (!(await this.sendRawBytes(piece))) return false;
    }
    if (typeof event !== 'string') this.#sentEvents.push(event as AgentEvent);
    return true;
  }

  /** Several framed events in a single write (one HTTP chunk). */
  async sendEventsInOneChunk(events: (AgentEvent | string)[]): Promise<boolean> {
    const framed = events.map((e) => encodeRecord(typeof e === 'string' ? e : JSON.stringify(e)));
    if (!(await this.sendRawBytes(Buffer.concat(framed)))) return false;
    for (const e of events) if (typeof e !== 'string') this.#sentEvents.push(e);
    return true;
  }

  /** Writes bytes as they are on the subscription stream, for decoder edge cases. */
  sendRawBytes(bytes: Buffer | string): Promise<boolean> {
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


// ---- mesos.proto as stout's JSON parser sees it ---------------------------------------------
// The messages reachable from an executor Call (include/mesos/v1/executor/executor.proto and
// include/mesos/v1/mesos.proto), reduced to what the parser needs: each field's JSON kind, its
// label, and, for enums, the value names. Integer kinds are all `int`: stout takes any JSON
// number for them and refuses a string ("Not expecting a JSON string for field ...").

export type ProtoObject = { [field: string]: unknown };
type Kind = 'string' | 'bytes' | 'bool' | 'double' | 'int' | { enum: readonly string[] | 'open' } | { message: () => Schema };
interface Field { kind: Kind; label: 'required' | 'optional' | 'repeated' }
type Schema = { readonly [field: string]: Field };

const req = (kind: Kind): Field => ({ kind, label: 'required' });
const opt = (kind: Kind): Field => ({ kind, label: 'optional' });
const rep = (kind: Kind): Field => ({ kind, label: 'repeated' });
const msg = (schema: () => Schema): Kind => ({ message: schema });
const oneOf = (...names: string[]): Kind => ({ enum: names });
/** Enums whose names do not matter here; unknown values would only be dropped anyway. */
const OPEN_ENUM: Kind = { enum: 'open' };

const TASK_STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED',
  'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN'];
const REASONS = ['REASON_COMMAND_EXECUTOR_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', 'REASON_CONTAINER_LIMITATION',
  'REASON_CONTAINER_LIMITATION_DISK', 'REASON_CONTAINER_LIMITATION_MEMORY', 'REASON_CONTAINER_PREEMPTED',
  'REASON_CONTAINER_UPDATE_FAILED', 'REASON_MAX_COMPLETION_TIME_REACHED', 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT', 'REASON_EXECUTOR_TERMINATED', 'REASON_EXECUTOR_UNREGISTERED', 'REASON_FRAMEWORK_REMOVED',
  'REASON_GC_ERROR', 'REASON_INVALID_FRAMEWORKID', 'REASON_INVALID_OFFERS', 'REASON_IO_SWITCHBOARD_EXITED', 'REASON_MASTER_DISCONNECTED',
  'REASON_RECONCILIATION', 'REASON_RESOURCES_UNKNOWN', 'REASON_AGENT_DISCONNECTED', 'REASON_AGENT_REMOVED',
  'REASON_AGENT_REMOVED_BY_OPERATOR', 'REASON_AGENT_REREGISTERED', 'REASON_AGENT_RESTARTED', 'REASON_AGENT_UNKNOWN',
  'REASON_TASK_KILLED_DURING_LAUNCH', 'REASON_TASK_CHECK_STATUS_UPDATED', 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  'REASON_TASK_GROUP_INVALID', 'REASON_TASK_GROUP_UNAUTHORIZED', 'REASON_TASK_INVALID', 'REASON_TASK_UNAUTHORIZED', 'REASON_TASK_UNKNOWN'];
const CHECK_TYPES = oneOf('UNKNOWN', 'COMMAND', 'HTTP', 'TCP');
const PROTOCOL = oneOf('IPv4', 'IPv6');

const ID: Schema = { value: req('string') };
const CONTAINER_ID: Schema = { value: req('string'), parent: opt(msg(() => CONTAINER_ID)) };
const NANOS: Schema = { nanoseconds: req('int') };
const LABELS: Schema = { labels: rep(msg(() => ({ key: req('string'), value: opt('string') }))) };
const PARAMETER: Schema = { key: req('string'), value: req('string') };
const SECRET: Schema = {
  type: opt(oneOf('UNKNOWN', 'REFERENCE', 'VALUE')),
  reference: opt(msg(() => ({ name: req('string'), key: opt('string') }))),
  value: opt(msg(() => ({ data: req('bytes') }))),
};
const ENVIRONMENT: Schema = {
  variables: rep(msg(() => ({ name: req('string'), type: opt(oneOf('UNKNOWN', 'VALUE', 'SECRET')), value: opt('string'), secret: opt(msg(() => SECRET)) }))),
};
const COMMAND_INFO: Schema = {
  uris: rep(msg(() => ({ value: req('string'), executable: opt('bool'), extract: opt('bool'), cache: opt('bool'), output_file: opt('string') }))),
  environment: opt(msg(() => ENVIRONMENT)), shell: opt('bool'), value: opt('string'), arguments: rep('string'), user: opt('string'),
};
const RESERVATION: Schema = { type: opt(oneOf('UNKNOWN', 'STATIC', 'DYNAMIC')), role: opt('string'), principal: opt('string'), labels: opt(msg(() => LABELS)) };
const IMAGE: Schema = {
  type: req(oneOf('APPC', 'DOCKER')),
  appc: opt(msg(() => ({ name: req('string'), id: opt('string'), labels: opt(msg(() => LABELS)) }))),
  docker: opt(msg(() => ({ name: req('string'), credential: opt(msg(() => ({ principal: req('string'), secret: opt('string') }))), config: opt(msg(() => SECRET)) }))),
  cached: opt('bool'),
};
const VOLUME: Schema = {
  mode: req(oneOf('RW', 'RO')), container_path: req('string'), host_path: opt('string'), image: opt(msg(() => IMAGE)),
  source: opt(msg(() => ({
    type: opt(oneOf('UNKNOWN', 'DOCKER_VOLUME', 'HOST_PATH', 'SANDBOX_PATH', 'SECRET')),
    docker_volume: opt(msg(() => ({ driver: opt('string'), name: req('string'), driver_options: opt(msg(() => ({ parameter: rep(msg(() => PARAMETER)) }))) }))),
    host_path: opt(msg(() => ({ path: req('string'), mount_propagation: opt(msg(() => ({ mode: opt(oneOf('UNKNOWN', 'HOST_TO_CONTAINER', 'BIDIRECTIONAL')) }))) }))),
    sandbox_path: opt(msg(() => ({ type: opt(oneOf('UNKNOWN', 'SELF', 'PARENT')), path: req('string') }))),
    secret: opt(msg(() => SECRET)),
  }))),
};
const RESOURCE: Schema = {
  provider_id: opt(msg(() => ID)), name: req('string'), type: req(oneOf('SCALAR', 'RANGES', 'SET', 'TEXT')),
  scalar: opt(msg(() => ({ value: req('double') }))),
  ranges: opt(msg(() => ({ range: rep(msg(() => ({ begin: req('int'), end: req('int') }))) }))),
  set: opt(msg(() => ({ item: rep('string') }))),
  role: opt('string'), allocation_info: opt(msg(() => ({ role: opt('string') }))),
  reservation: opt(msg(() => RESERVATION)), reservations: rep(msg(() => RESERVATION)),
  disk: opt(msg(() => ({
    persistence: opt(msg(() => ({ id: req('string'), principal: opt('string') }))),
    volume: opt(msg(() => VOLUME)),
    source: opt(msg(() => ({
      type: req(oneOf('UNKNOWN', 'PATH', 'MOUNT', 'BLOCK', 'RAW')), path: opt(msg(() => ({ root: opt('string') }))),
      mount: opt(msg(() => ({ root: opt('string') }))), id: opt('string'), metadata: opt(msg(() => LABELS)), profile: opt('string'),
    }))),
  }))),
  revocable: opt(msg(() => ({}))), shared: opt(msg(() => ({}))),
};
const PORT_MAPPING: Schema = { host_port: req('int'), container_port: req('int'), protocol: opt('string') };
const NETWORK_INFO: Schema = {
  ip_addresses: rep(msg(() => ({ protocol: opt(PROTOCOL), ip_address: opt('string') }))), name: opt('string'), groups: rep('string'),
  labels: opt(msg(() => LABELS)), port_mappings: rep(msg(() => PORT_MAPPING)),
};
const CAPABILITIES: Schema = { capabilities: rep(OPEN_ENUM) };
const CONTAINER_INFO: Schema = {
  type: req(oneOf('DOCKER', 'MESOS')), volumes: rep(msg(() => VOLUME)), hostname: opt('string'),
  docker: opt(msg(() => ({
    image: req('string'), network: opt(oneOf('HOST', 'BRIDGE', 'NONE', 'USER')), port_mappings: rep(msg(() => PORT_MAPPING)),
    privileged: opt('bool'), parameters: rep(msg(() => PARAMETER)), force_pull_image: opt('bool'), volume_driver: opt('string'),
  }))),
  mesos: opt(msg(() => ({ image: opt(msg(() => IMAGE)) }))),
  network_infos: rep(msg(() => NETWORK_INFO)),
  linux_info: opt(msg(() => ({
    capability_info: opt(msg(() => CAPABILITIES)), bounding_capabilities: opt(msg(() => CAPABILITIES)),
    effective_capabilities: opt(msg(() => CAPABILITIES)), share_pid_namespace: opt('bool'),
  }))),
  rlimit_info: opt(msg(() => ({ rlimits: rep(msg(() => ({ type: opt(OPEN_ENUM), hard: opt('int'), soft: opt('int') }))) }))),
  tty_info: opt(msg(() => ({ window_size: opt(msg(() => ({ rows: req('int'), columns: req('int') }))) }))),
};
const DISCOVERY: Schema = {
  visibility: req(oneOf('FRAMEWORK', 'CLUSTER', 'EXTERNAL')), name: opt('string'), environment: opt('string'), location: opt('string'),
  version: opt('string'), labels: opt(msg(() => LABELS)),
  ports: opt(msg(() => ({ ports: rep(msg(() => ({
    number: req('int'), name: opt('string'), protocol: opt('string'), visibility: opt(oneOf('FRAMEWORK', 'CLUSTER', 'EXTERNAL')), labels: opt(msg(() => LABELS)),
  }))) }))),
};
const EXECUTOR_INFO: Schema = {
  type: opt(oneOf('UNKNOWN', 'DEFAULT', 'CUSTOM')), executor_id: req(msg(() => ID)), framework_id: opt(msg(() => ID)),
  command: opt(msg(() => COMMAND_INFO)), container: opt(msg(() => CONTAINER_INFO)), resources: rep(msg(() => RESOURCE)),
  name: opt('string'), source: opt('string'), data: opt('bytes'), discovery: opt(msg(() => DISCOVERY)),
  shutdown_grace_period: opt(msg(() => NANOS)), labels: opt(msg(() => LABELS)),
};
const HEALTH_CHECK: Schema = {
  delay_seconds: opt('double'), interval_seconds: opt('double'), timeout_seconds: opt('double'), consecutive_failures: opt('int'),
  grace_period_seconds: opt('double'), type: opt(CHECK_TYPES), command: opt(msg(() => COMMAND_INFO)),
  http: opt(msg(() => ({ protocol: opt(PROTOCOL), scheme: opt('string'), port: req('int'), path: opt('string'), statuses: rep('int') }))),
  tcp: opt(msg(() => ({ protocol: opt(PROTOCOL), port: req('int') }))),
};
const CHECK_INFO: Schema = {
  type: opt(CHECK_TYPES), command: opt(msg(() => ({ command: req(msg(() => COMMAND_INFO)) }))),
  http: opt(msg(() => ({ port: req('int'), path: opt('string') }))), tcp: opt(msg(() => ({ port: req('int') }))),
  delay_seconds: opt('double'), interval_seconds: opt('double'), timeout_seconds: opt('double'),
};
export const taskInfoSchema: Schema = {
  name: req('string'), task_id: req(msg(() => ID)), agent_id: req(msg(() => ID)), resources: rep(msg(() => RESOURCE)),
  executor: opt(msg(() => EXECUTOR_INFO)), command: opt(msg(() => COMMAND_INFO)), container: opt(msg(() => CONTAINER_INFO)),
  health_check: opt(msg(() => HEALTH_CHECK)), check: opt(msg(() => CHECK_INFO)),
  kill_policy: opt(msg(() => ({ grace_period: opt(msg(() => NANOS)) }))), data: opt('bytes'), labels: opt(msg(() => LABELS)),
  discovery: opt(msg(() => DISCOVERY)), max_completion_time: opt(msg(() => NANOS)),
};
const TASK_STATUS: Schema = {
  task_id: req(msg(() => ID)), state: req(oneOf(...TASK_STATES)), message: opt('string'),
  source: opt(oneOf('SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR')), reason: opt(oneOf(...REASONS)), data: opt('bytes'),
  agent_id: opt(msg(() => ID)), executor_id: opt(msg(() => ID)), timestamp: opt('double'), uuid: opt('bytes'), healthy: opt('bool'),
  check_status: opt(msg(() => ({
    type: opt(CHECK_TYPES), command: opt(msg(() => ({ exit_code: opt('int') }))), http: opt(msg(() => ({ status_code: opt('int') }))),
    tcp: opt(msg(() => ({ succeeded: opt('bool') }))),
  }))),
  labels: opt(msg(() => LABELS)),
  container_status: opt(msg(() => ({
    container_id: opt(msg(() => CONTAINER_ID)), network_infos: rep(msg(() => NETWORK_INFO)),
    cgroup_info: opt(msg(() => ({ net_cls: opt(msg(() => ({ classid: opt('int') }))) }))), executor_pid: opt('int'),
  }))),
  unreachable_time: opt(msg(() => NANOS)),
  limitation: opt(msg(() => ({ resources: rep(msg(() => RESOURCE)) }))),
};
const UPDATE: Schema = { status: req(msg(() => TASK_STATUS)) };
/** v1 executor Call, with `HEARTBEAT = 4` (added in Mesos 1.5 along with Event HEARTBEAT = 9). */
export const callSchema: Schema = {
  executor_id: req(msg(() => ID)), framework_id: req(msg(() => ID)),
  type: opt(oneOf('UNKNOWN', 'SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT')),
  subscribe: opt(msg(() => ({ unacknowledged_tasks: rep(msg(() => taskInfoSchema)), unacknowledged_updates: rep(msg(() => UPDATE)) }))),
  update: opt(msg(() => UPDATE)),
  message: opt(msg(() => ({ data: req('bytes') }))),
};

class ProtoError extends Error {}
const DROPPED = Symbol('dropped');

/**
 * stout `protobuf::parse<T>(JSON::Value)`: the fields of the message, as the agent would hold
 * them (bytes as Buffers, unknown fields and unknown optional enum values gone), or the error
 * the agent would answer with. Required fields are checked last, like `IsInitialized()`.
 */
export function parseProto(schema: Schema, json: unknown, notes: string[]): { ok: true; value: ProtoObject } | { ok: false; error: string } {
  if (!isObject(json)) return { ok: false, error: 'Expecting a JSON object' };
  try {
    const value = parseMessage(schema, json, '', notes);
    const missing: string[] = [];
    findMissing(schema, value, '', missing);
    if (missing.length > 0) return { ok: false, error: `Missing required fields: ${missing.join(', ')}` };
    return { ok: true, value };
  } catch (err) {
    if (err instanceof ProtoError) return { ok: false, error: err.message };
    throw err;
  }
}

function isObject(value: unknown): value is ProtoObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMessage(schema: Schema, json: ProtoObject, path: string, notes: string[]): ProtoObject {
  const out: ProtoObject = {};
  for (const [name, value] of Object.entries(json)) {
    const field = schema[name];
    if (!field) { notes.push(`${path}${name}: unknown field, ignored by the agent`); continue; }
    setField(field, name, value, out, `${path}${name}`, notes);
  }
  return out;
}

function setField(field: Field, name: string, value: unknown, out: ProtoObject, path: string, notes: string[]): void {
  if (value === null || value === undefined) return; // "We treat 'null' as an unset field."
  if (Array.isArray(value)) {
    if (field.label !== 'repeated') throw new ProtoError(`Not expecting a JSON array for field '${name}'`);
    for (const element of value) setField(field, name, element, out, path, notes); // nested arrays flatten, as in stout
    return;
  }
  const parsed = parseSingle(field, name, value, path, notes);
  if (parsed === DROPPED) return;
  if (field.label === 'repeated') ((out[name] ??= []) as unknown[]).push(parsed);
  else out[name] = parsed;
}

function parseSingle(field: Field, name: string, value: unknown, path: string, notes: string[]): unknown {
  const kind = field.kind;
  const refuse = (json: string): never => { throw new ProtoError(`Not expecting a JSON ${json} for field '${name}'`); };
  if (isObject(value)) return typeof kind === 'object' && 'message' in kind ? parseMessage(kind.message(), value, `${path}.`, notes) : refuse('object');
  if (typeof value === 'string') {
    if (kind === 'string') return value;
    if (kind === 'bytes') return stoutBase64Decode(value, name);
    if (typeof kind === 'object' && 'enum' in kind) {
      if (kind.enum === 'open' || kind.enum.includes(value)) return value;
      if (field.label === 'required') throw new ProtoError(`Failed to find enum for '${value}'`);
      notes.push(`${path}: unknown enum value '${value}', dropped by the agent (the field reads as unset)`);
      return DROPPED;
    }
    return refuse('string');
  }
  if (typeof value === 'number') return kind === 'double' || kind === 'int' ? value : refuse('number');
  if (typeof value === 'boolean') return kind === 'bool' ? value : refuse('boolean');
  return refuse(typeof value);
}

function findMissing(schema: Schema, value: ProtoObject, path: string, missing: string[]): void {
  for (const [name, field] of Object.entries(schema)) {
    const present = value[name];
    if (present === undefined) { if (field.label === 'required') missing.push(`${path}${name}`); continue; }
    if (typeof field.kind !== 'object' || !('message' in field.kind)) continue;
    const sub = field.kind.message();
    if (Array.isArray(present)) present.forEach((element, i) => findMissing(sub, element as ProtoObject, `${path}${name}[${i}].`, missing));
    else findMissing(sub, present as ProtoObject, `${path}${name}.`, missing);
  }
}

/**
 * stout `base64::decode` (standard alphabet): stops at the first '=', skips whitespace, refuses
 * any other non-alphabet character, and ignores a dangling 1-character group.
 */
export function stoutBase64Decode(text: string, fieldName: string): Buffer {
  let clean = '';
  for (const c of text) {
    if (c === '=') break;
    if (/\s/.test(c)) continue;
    if (!/[A-Za-z0-9+/]/.test(c)) throw new ProtoError(`Failed to base64 decode bytes field '${fieldName}': Invalid character '${c}'`);
    clean += c;
  }
  if (clean.length % 4 === 1) clean = clean.slice(0, -1);
  return Buffer.from(clean, 'base64');
}
