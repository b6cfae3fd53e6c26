// Tests of the Mesos agent double itself, with raw node:http requests and a RecordIO reader
// written here (not the executor's decoder), so a bug in either cannot hide the other. Each
// refusal is checked against the status code the real agent gives (see mesos-agent.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { test, type TestContext } from 'node:test';
import { EXECUTOR_API_PATH, MesosAgentDouble, type MesosAgentDoubleOptions, acceptsMediaType, isValidUuidBytes } from './mesos-agent';
import { dockerTaskInfo } from './task-fixtures';

const TASK_ID = 'web.2024-01-01T00.00.00-1';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

function send(agent: MesosAgentDouble, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: agent.port, method: options.method ?? 'POST', path: options.path ?? EXECUTOR_API_PATH, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
function post(agent: MesosAgentDouble, call: unknown, headers: Record<string, string> = JSON_HEADERS): Promise<Reply> {
  return send(agent, { headers, body: typeof call === 'string' ? call : JSON.stringify(call) });
}

function uuid(): string { return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64'); }

function ids(agent: MesosAgentDouble): { executor_id: { value: string }; framework_id: { value: string } } {
  return { executor_id: { value: agent.executorId }, framework_id: { value: agent.frameworkId } };
}

function status(agent: MesosAgentDouble, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: { value: TASK_ID }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', executor_id: { value: agent.executorId },
    timestamp: Date.now() / 1000, uuid: uuid(), ...overrides,
  };
}
function updateCall(agent: MesosAgentDouble, st: Record<string, unknown>): Record<string, unknown> {
  return { type: 'UPDATE', ...ids(agent), update: { status: st } };
}
function subscribeCall(agent: MesosAgentDouble, updates: unknown[] = []): Record<string, unknown> {
  return { type: 'SUBSCRIBE', ...ids(agent), subscribe: { unacknowledged_tasks: [], unacknowledged_updates: updates } };
}

/** The SUBSCRIBE response read as raw bytes; records are parsed strictly by `records()`. */
class RawStream {
  readonly chunks: Buffer[] = [];
  readonly ended: Promise<'end' | 'aborted'>;
  #notify: () => void = () => undefined;
  constructor(readonly res: http.IncomingMessage) {
    res.on('data', (c: Buffer) => { this.chunks.push(c); this.#notify(); });
    this.ended = new Promise((resolve) => {
      res.on('end', () => resolve('end'));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('aborted'));
    });
  }

  static open(agent: MesosAgentDouble, body: unknown = subscribeCall(agent), headers: Record<string, string> = JSON_HEADERS): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: agent.port, method: 'POST', path: EXECUTOR_API_PATH, headers, agent: false }, (res) => resolve(new RawStream(res)));
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  /** "<decimal length>\n<length bytes>" repeated; throws on anything else. */
  records(): string[] {
    const bytes = Buffer.concat(this.chunks);
    const out: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      const nl = bytes.indexOf(0x0a, at);
      if (nl < 0) break;
      const header = bytes.subarray(at, nl).toString('latin1');
      assert.match(header, /^[1-9]\d*$/, `bad RecordIO length line ${JSON.stringify(header)}`);
      const end = nl + 1 + Number(header);
      if (end > bytes.length) break;
      out.push(bytes.subarray(nl + 1, end).toString('utf8'));
      at = end;
    }
    return out;
  }

  events(): Record<string, any>[] { return this.records().map((r) => JSON.parse(r) as Record<string, any>); }

  async waitForEvents(count: number, timeoutMs = 2000): Promise<Record<string, any>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events().length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.events().length} of ${count} events arrived: ${this.records().join(' | ')}`);
      await new Promise<void>((resolve) => { this.#notify = resolve; setTimeout(resolve, 20); });
    }
    return this.events();
  }

  close(): void { this.res.destroy(); }
}

async function startAgent(t: TestContext, options: MesosAgentDoubleOptions = {}): Promise<MesosAgentDouble> {
  const agent = await MesosAgentDouble.start(options);
  t.after(() => agent.stop());
  return agent;
}

async function subscribed(t: TestContext, agent: MesosAgentDouble): Promise<RawStream> {
  const stream = await RawStream.open(agent);
  t.after(() => stream.close());
  await stream.waitForEvents(1);
  return stream;
}

test('accepts a well-formed UPDATE with 202 and acknowledges it on the subscription', async (t) => {
  const agent = await startAgent(t);
  const stream = await subscribed(t, agent);
  const st = status(agent, { message: 'started', reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: true });
  const reply = await post(agent, updateCall(agent, st));
  assert.equal(reply.status, 202);
  assert.equal(reply.body, '');
  const events = await stream.waitForEvents(2);
  assert.deepEqual(events[1], { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: TASK_ID }, uuid: st.uuid } });
  assert.deepEqual(agent.updates(), [st]);
  assert.deepEqual(agent.rejectedCalls(), []);
  assert.equal((await agent.waitForUpdate((s) => s.state === 'TASK_RUNNING')).uuid, st.uuid);
});

test('refuses calls the way the real agent does', async (t) => {
  const agent = await startAgent(t);
  await subscribed(t, agent);
  const uuid15 = Buffer.alloc(15, 7).toString('base64');
  const noVersion = Buffer.from('0011223344550677' + '8899aabbccddeeff', 'hex'); // byte 6 = 0x06: version nibble 0
  assert.equal(isValidUuidBytes(noVersion), false);
  const cases: [string, unknown, number, RegExp][] = [
    ['missing executor_id', { type: 'UPDATE', framework_id: { value: agent.frameworkId }, update: { status: status(agent) } }, 400, /Missing required fields: executor_id/],
    ['wrong framework_id', { ...updateCall(agent, status(agent)), framework_id: { value: 'other-framework' } }, 400, /Framework cannot be found/],
    ['wrong executor_id', { ...updateCall(agent, status(agent, { executor_id: undefined })), executor_id: { value: 'other' } }, 400, /Executor cannot be found/],
    ['call executor_id differs from the status one', { ...updateCall(agent, status(agent)), executor_id: { value: 'other' } }, 400, /ExecutorID in Call: other does not match/],
    ['TASK_STAGING', updateCall(agent, status(agent, { state: 'TASK_STAGING' })), 400, /TASK_STAGING .* which is not allowed/],
    ['source SOURCE_AGENT', updateCall(agent, status(agent, { source: 'SOURCE_AGENT' })), 400, /invalid source, expecting 'SOURCE_EXECUTOR'/],
    ['no source (reads as SOURCE_MASTER)', updateCall(agent, status(agent, { source: undefined })), 400, /invalid source/],
    ['a 15-byte uuid', updateCall(agent, status(agent, { uuid: uuid15 })), 400, /Not a valid UUID/],
    ['a uuid without an RFC 4122 version', updateCall(agent, status(agent, { uuid: noVersion.toString('base64') })), 400, /Not a valid UUID/],
    ['no uuid', updateCall(agent, status(agent, { uuid: undefined })), 400, /Expecting 'uuid' to be present/],
    ['uuid not base64', updateCall(agent, status(agent, { uuid: 'not*base64' })), 400, /Failed to base64 decode bytes field 'uuid'/],
    ['an unknown state name', updateCall(agent, status(agent, { state: 'TASK_DONE' })), 400, /Failed to find enum for 'TASK_DONE'/],
    ['a state as a number', updateCall(agent, status(agent, { state: 1 })), 400, /Not expecting a JSON number for field 'state'/],
    ['status executor_id mismatch', updateCall(agent, status(agent, { executor_id: { value: 'x' } })), 400, /does not match ExecutorID in TaskStatus: x/],
    ['timestamp as a string', updateCall(agent, status(agent, { timestamp: '1700000000' })), 400, /Not expecting a JSON string for field 'timestamp'/],
    ['no task_id', updateCall(agent, status(agent, { task_id: undefined })), 400, /Missing required fields: update.status.task_id/],
    ['no update', { type: 'UPDATE', ...ids(agent) }, 400, /Expecting 'update' to be present/],
    ['no type', { ...ids(agent) }, 400, /Expecting 'type' to be present/],
    ['an unknown type (dropped, so no type)', { type: 'LAUNCH', ...ids(agent) }, 400, /Expecting 'type' to be present/],
    ['type UNKNOWN', { type: 'UNKNOWN', ...ids(agent) }, 501, /Not Implemented/],
    ['a JSON array', [], 400, /Expecting a JSON object/],
    ['malformed JSON', '{"type": "UPDATE",', 400, /Failed to parse body into JSON/],
    ['a bad check_status', updateCall(agent, status(agent, { check_status: { type: 'HTTP' } })), 400, /Expecting 'http' to be set for HTTP check's status/],
    ['an address as a bare string', updateCall(agent, status(agent, { container_status: { network_infos: [{ ip_addresses: ['10.0.0.1'] }] } })), 400, /Not expecting a JSON string for field 'ip_addresses'/],
    ['a port mapping without container_port', updateCall(agent, status(agent, { container_status: { network_infos: [{ port_mappings: [{ host_port: 31000 }] }] } })), 400,
      /Missing required fields: update\.status\.container_status\.network_infos\[0\]\.port_mappings\[0\]\.container_port/],
    ['MESSAGE data not base64', { type: 'MESSAGE', ...ids(agent), message: { data: 'a$b' } }, 400, /Invalid character '\$'/],
    ['MESSAGE without message', { type: 'MESSAGE', ...ids(agent) }, 400, /Expecting 'message' to be present/],
  ];
  for (const [what, call, code, reason] of cases) {
    const reply = await post(agent, call);
    assert.equal(reply.status, code, `${what}: ${reply.body}`);
    assert.match(reply.body, reason, what);
  }
  assert.equal(agent.rejectedCalls().length, cases.length);
  assert.deepEqual(agent.updates(), []);
});

test('applies stout quirks: unknown fields ignored, an unknown optional enum dropped, variant bits unchecked', async (t) => {
  const agent = await startAgent(t);
  await subscribed(t, agent);
  const variantNcs = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  variantNcs[8] &= 0x3f; // variant 0b00: not RFC 4122, yet boost's version() still reads 4
  const reply = await post(agent, updateCall(agent, status(agent, { uuid: variantNcs.toString('base64'), reason: 'REASON_MADE_UP', mesage: 'typo' })));
  assert.equal(reply.status, 202);
  const [noted] = agent.notedCalls();
  assert.ok(noted);
  assert.ok(noted.notes.some((n) => n.includes("unknown enum value 'REASON_MADE_UP'")), noted.notes.join('; '));
  assert.ok(noted.notes.some((n) => n.includes('update.status.mesage: unknown field')), noted.notes.join('; '));
  assert.equal((await post(agent, { type: 'MESSAGE', ...ids(agent), message: { data: ' aGk=\n' } })).status, 202);
});

test('accepts container_status as the Mesos Docker executor sends it; drops an unknown address protocol', async (t) => {
  const agent = await startAgent(t);
  await subscribed(t, agent);
  const containerStatus = { network_infos: [{ name: 'user-net', ip_addresses: [{ ip_address: '172.18.0.2' }, { protocol: 'IPv6', ip_address: 'fd00::2' }] }] };
  const aboutContainer = (): string[] => agent.notedCalls().flatMap((c) => c.notes).filter((n) => n.includes('container_status'));
  assert.equal((await post(agent, updateCall(agent, status(agent, { container_status: containerStatus })))).status, 202);
  assert.deepEqual(aboutContainer(), []);
  assert.deepEqual(agent.updates()[0]!.container_status, containerStatus);
  const odd = { network_infos: [{ ip_addresses: [{ protocol: 'IPv5', ip_address: '1.2.3.4' }] }] };
  assert.equal((await post(agent, updateCall(agent, status(agent, { container_status: odd })))).status, 202);
  assert.match(aboutContainer().join('; '), /ip_addresses\.protocol: unknown enum value 'IPv5'/);
});

test('refuses a call before SUBSCRIBE with 403, and HEARTBEAT calls with any ids with 202', async (t) => {
  const agent = await startAgent(t);
  const reply = await post(agent, updateCall(agent, status(agent)));
  assert.equal(reply.status, 403);
  assert.equal(reply.body, 'Executor is not subscribed');
  const heartbeat = await post(agent, { type: 'HEARTBEAT', executor_id: { value: 'dummy' }, framework_id: { value: 'dummy' } });
  assert.equal(heartbeat.status, 202);
});

test('checks Content-Type exactly, the method, and Accept on SUBSCRIBE', async (t) => {
  const agent = await startAgent(t);
  const body = JSON.stringify(subscribeCall(agent));
  assert.equal((await send(agent, { headers: { 'content-type': 'text/plain' }, body })).status, 415);
  assert.equal((await send(agent, { headers: { 'content-type': 'application/json; charset=utf-8' }, body })).status, 415);
  assert.equal((await send(agent, { headers: {}, body })).status, 400);
  const get = await send(agent, { method: 'GET' });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'POST');
  assert.equal((await send(agent, { headers: { 'content-type': 'application/json', accept: 'text/html' }, body })).status, 406);
  assert.equal(acceptsMediaType('application/*;q=0.5', 'application/json'), true);
  assert.equal(acceptsMediaType('application/json;q=0', 'application/json'), false);
  assert.equal(acceptsMediaType(undefined, 'application/json'), true);
  assert.equal(agent.subscribeCalls().length, 0);
});

test('with an auth token, refuses calls without the right bearer token with 401', async (t) => {
  const agent = await startAgent(t, { authToken: 's3cr3t' });
  const body = subscribeCall(agent);
  const none = await post(agent, body);
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="mesos-agent-executor"');
  const wrong = await post(agent, body, { ...JSON_HEADERS, authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
  assert.equal((await post(agent, body, { ...JSON_HEADERS, authorization: 'bearer s3cr3t' })).status, 401);
  const stream = await RawStream.open(agent, body, { ...JSON_HEADERS, authorization: 'Bearer s3cr3t' });
  t.after(() => stream.close());
  assert.equal(stream.res.statusCode, 200);
  assert.equal(agent.executorEnvironment().MESOS_EXECUTOR_AUTHENTICATION_TOKEN, 's3cr3t');
});

test('streams RecordIO-framed JSON events over chunked encoding, SUBSCRIBED first', async (t) => {
  const agent = await startAgent(t, { frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] });
  const stream = await subscribed(t, agent);
  assert.equal(stream.res.statusCode, 200);
  assert.equal(stream.res.headers['content-type'], 'application/json');
  assert.equal(stream.res.headers['transfer-encoding'], 'chunked');
  assert.equal(stream.res.headers['content-length'], undefined);
  const [first] = stream.events();
  assert.equal(first?.type, 'SUBSCRIBED');
  assert.equal(first?.subscribed.executor_info.executor_id.value, agent.executorId);
  assert.equal(first?.subscribed.executor_info.command.shell, true);
  assert.equal(first?.subscribed.framework_info.id.value, agent.frameworkId);
  assert.deepEqual(first?.subscribed.framework_info.capabilities, [{ type: 'TASK_KILLING_STATE' }]);
  assert.equal(first?.subscribed.agent_info.hostname, agent.hostname);
  assert.equal(first?.subscribed.agent_info.port, 5051);
  assert.equal(first?.subscribed.container_id.value, agent.containerId);

  const chunksBefore = stream.chunks.length;
  assert.equal(await agent.sendEvent({ type: 'MESSAGE', message: { data: 'aGVsbG8=' } }, { splitAt: [1, 3, 10], pauseMs: 10 }), true);
  await stream.waitForEvents(2);
  assert.ok(stream.chunks.length - chunksBefore >= 4, 'a split event arrives in several chunks');
  await agent.sendEventsInOneChunk([{ type: 'HEARTBEAT' }, '{"type":"SHUTDOWN","x_new":1}']);
  const events = await stream.waitForEvents(4);
  assert.deepEqual(events.slice(1).map((e) => e.type), ['MESSAGE', 'HEARTBEAT', 'SHUTDOWN']);
  const framed = Buffer.concat(stream.chunks).toString('utf8');
  const heartbeat = JSON.stringify({ type: 'HEARTBEAT' });
  assert.ok(framed.includes(`${Buffer.byteLength(heartbeat)}\n${heartbeat}`));
  await agent.kill(TASK_ID, 3);
  assert.deepEqual((await stream.waitForEvents(5))[4], { type: 'KILL', kill: { task_id: { value: TASK_ID }, kill_policy: { grace_period: { nanoseconds: 3e9 } } } });
});

test('queues a LAUNCH until SUBSCRIBED, with a TaskInfo shaped like a real agent\'s', async (t) => {
  const agent = await startAgent(t);
  const task = dockerTaskInfo({ image: 'nginx:1.25', taskId: TASK_ID, cmd: 'nginx -g "daemon off;"', env: { A: '1' }, labels: { ServiceName: 'web' }, ports: [{ containerPort: 80, hostPort: 31001 }], volumes: [{ containerPath: '/data', hostPath: '/srv', mode: 'RO' }], killPolicyGraceSec: 7 });
  assert.equal(await agent.launch(task), true);
  const stream = await subscribed(t, agent);
  const events = await stream.waitForEvents(2);
  assert.equal(events[1]?.type, 'LAUNCH');
  const sent = events[1]?.launch.task;
  assert.equal(sent.executor.command.shell, true);
  assert.equal(sent.container.docker.network, 'HOST');
  assert.equal(sent.container.docker.privileged, false);
  assert.equal(sent.container.docker.force_pull_image, false);
  assert.deepEqual(sent.container.docker.parameters.slice(0, 3), [
    { key: 'label', value: 'ServiceName=web' }, { key: 'label', value: 'executor.ShellCommand=nginx -g "daemon off;"' }, { key: 'env', value: 'A=1' },
  ]);
  assert.equal(sent.resources[0].role, '*');
  assert.equal(sent.resources[0].type, 'SCALAR');
  assert.deepEqual(sent.kill_policy, { grace_period: { nanoseconds: 7e9 } });
  assert.ok('x_field_from_a_newer_mesos' in sent);
  await assert.rejects(agent.launch({ ...task, name: undefined } as never), /Missing required fields: name/);
});

test('acknowledges after a delay, withholds acks on demand, and re-acks updates resent on SUBSCRIBE', async (t) => {
  const agent = await startAgent(t, { ackDelayMs: 150 });
  const stream = await subscribed(t, agent);
  const started = Date.now();
  assert.equal((await post(agent, updateCall(agent, status(agent)))).status, 202);
  await stream.waitForEvents(2);
  assert.ok(Date.now() - started >= 140);

  agent.setAckDelay(0);
  agent.withholdAcks();
  const held = status(agent, { state: 'TASK_FINISHED' });
  assert.equal((await post(agent, updateCall(agent, held))).status, 202);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(stream.events().length, 2);
  await agent.releaseAcks();
  assert.equal((await stream.waitForEvents(3))[2]?.acknowledged.uuid, held.uuid);

  const resent = status(agent, { state: 'TASK_FAILED' });
  const again = await RawStream.open(agent, subscribeCall(agent, [{ status: resent }]));
  t.after(() => again.close());
  const events = await again.waitForEvents(2);
  assert.equal(events[0]?.type, 'SUBSCRIBED');
  assert.deepEqual(events[1]?.acknowledged, { task_id: { value: TASK_ID }, uuid: resent.uuid });
  assert.equal(await stream.ended, 'end', 'a re-subscription ends the old stream');
});

test('dropConnection cuts the stream; the executor stays known and can re-subscribe', async (t) => {
  const agent = await startAgent(t);
  const stream = await subscribed(t, agent);
  agent.dropConnection();
  assert.equal(await stream.ended, 'aborted');
  await agent.waitForUnsubscribed();
  assert.equal(await agent.heartbeat(), false, 'events without a subscription are dropped');
  assert.equal((await post(agent, updateCall(agent, status(agent)))).status, 202, 'updates are accepted while disconnected');
  await subscribed(t, agent);
  assert.equal((await agent.waitForSubscribe(2)).status, 200);
});

test('stop, restart and refuseConnectionsFor keep the port', async (t) => {
  const agent = await startAgent(t);
  const port = agent.port;
  const stream = await subscribed(t, agent);
  await agent.stop();
  assert.equal(await stream.ended, 'aborted');
  await assert.rejects(post(agent, updateCall(agent, status(agent))), /ECONNREFUSED/);
  await agent.restart();
  assert.equal(agent.port, port);
  assert.equal((await post(agent, updateCall(agent, status(agent)))).status, 202, 'known after a restart');

  const back = agent.refuseConnectionsFor(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assert.rejects(post(agent, updateCall(agent, status(agent))), /ECONNREFUSED/);
  await back;
  assert.equal(agent.port, port);
  await subscribed(t, agent);
});

test('failNext answers 503 or drops the connection, then the agent accepts again', async (t) => {
  const agent = await startAgent(t);
  await subscribed(t, agent);
  agent.failNext('UPDATE', 2);
  const st = status(agent);
  assert.equal((await post(agent, updateCall(agent, st))).status, 503);
  assert.equal((await post(agent, updateCall(agent, st))).status, 503);
  assert.equal((await post(agent, updateCall(agent, st))).status, 202);
  agent.failNext('UPDATE', 1, 'drop');
  await assert.rejects(post(agent, updateCall(agent, st)), /socket hang up|ECONNRESET/);
  assert.equal(agent.rejectedCalls().length, 0, 'injected failures are not agent refusals');
  assert.equal(agent.calls().filter((c) => c.injected).length, 3);
});

test('serves /state with master_hostname, hostname and id', async (t) => {
  const agent = await startAgent(t, { masterHostname: 'master.example', hostname: 'agent.example' });
  const reply = await send(agent, { method: 'GET', path: '/state' });
  assert.equal(reply.status, 200);
  const state = JSON.parse(reply.body) as Record<string, unknown>;
  assert.equal(state.master_hostname, 'master.example');
  assert.equal(state.hostname, 'agent.example');
  assert.equal(state.id, agent.agentId);
  agent.setMasterHostname(null);
  const without = JSON.parse((await send(agent, { method: 'GET', path: '/state' })).body) as Record<string, unknown>;
  assert.equal('master_hostname' in without, false);
  assert.equal(agent.stateRequests(), 2);
});
