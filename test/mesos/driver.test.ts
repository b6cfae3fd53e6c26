import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorDriver, type DriverHandlers } from '../../src/mesos/driver';
import { buildStatus } from '../../src/mesos/status';
import { memoryLogger } from '../../src/logging/logger';
import { FakeAgentApi, nextTick, until } from './fake-agent-api';

const ids = { executorId: 'ex', frameworkId: 'fw' };

function recordingHandlers() {
  const seen: string[] = [];
  let lost: string | undefined;
  const handlers: DriverHandlers = {
    subscribed: ({ reconnect }) => seen.push(reconnect ? 'resubscribed' : 'subscribed'),
    launch: (task) => seen.push(`launch ${task.task_id.value}`),
    kill: (id, policy) => seen.push(`kill ${id} ${policy?.grace_period?.nanoseconds ?? '-'}`),
    shutdown: () => seen.push('shutdown'),
    agentLost: (reason) => { lost = reason; },
  };
  return { seen, handlers, lost: () => lost };
}

function driver(api: FakeAgentApi, checkpoint: boolean, recoveryTimeoutMs = 500) {
  return new ExecutorDriver(api, ids, { checkpoint, recoveryTimeoutMs, subscriptionBackoffMaxMs: 40, updateRetryBaseMs: 10, updateRetryMaxMs: 40 }, memoryLogger());
}

test('events reach their handlers; unknown events are ignored', async () => {
  const api = new FakeAgentApi();
  const d = driver(api, false);
  const h = recordingHandlers();
  void d.run(h.handlers);
  await until(() => h.seen.includes('subscribed'));
  api.emit({ type: 'LAUNCH', launch: { task: { task_id: { value: 't1' } } } });
  api.emit({ type: 'KILL', kill: { task_id: { value: 't1' }, kill_policy: { grace_period: { nanoseconds: 3e9 } } } });
  api.emit({ type: 'HEARTBEAT' });
  api.emit({ type: 'MESSAGE', message: { data: 'aGk=' } });
  api.emit({ type: 'SOMETHING_NEW' } as never);
  api.emit({ type: 'SHUTDOWN' });
  assert.deepEqual(h.seen, ['subscribed', 'launch t1', 'kill t1 3000000000', 'shutdown']);
  d.stop();
});

test('a failing UPDATE POST is retried until the agent takes it, then acknowledged', async () => {
  const api = new FakeAgentApi();
  api.postFailures = ['network', 503, 500];
  const d = driver(api, false);
  void d.run(recordingHandlers().handlers);
  await until(() => d.connected);
  const status = buildStatus(ids, 't1', 'TASK_RUNNING');
  d.sendStatus(status);
  assert.equal(await d.waitForAcknowledgement(status.uuid, 2000), true);
  assert.equal(api.posts.length, 4);
  assert.ok(api.posts.every((c) => c.update?.status.uuid === status.uuid), 'the same update, same uuid');
  d.stop();
});

test('a 400 is not retried forever', async () => {
  const api = new FakeAgentApi();
  api.postFailures = [400];
  const d = driver(api, false);
  void d.run(recordingHandlers().handlers);
  await until(() => d.connected);
  d.sendStatus(buildStatus(ids, 't1', 'TASK_RUNNING'));
  await nextTick(100);
  assert.equal(api.posts.length, 1);
  d.stop();
});

test('without checkpointing a broken subscription means the agent is lost', async () => {
  const api = new FakeAgentApi();
  const d = driver(api, false);
  const h = recordingHandlers();
  const done = d.run(h.handlers);
  await until(() => d.connected);
  api.drop();
  await done;
  assert.match(h.lost() ?? '', /checkpointing/);
  assert.equal(api.subscribeCalls.length, 1);
});

test('with checkpointing it re-subscribes carrying unacknowledged tasks and updates', async () => {
  const api = new FakeAgentApi();
  api.autoAck = false;
  const d = driver(api, true, 5000);
  const h = recordingHandlers();
  void d.run(h.handlers);
  await until(() => d.connected);
  api.emit({ type: 'LAUNCH', launch: { task: { task_id: { value: 't1' } } } });
  const status = buildStatus(ids, 't1', 'TASK_STARTING');
  d.sendStatus(status);
  await until(() => api.posts.length === 1);
  api.drop();
  await until(() => h.seen.includes('resubscribed'));
  const again = api.subscribeCalls[1].subscribe!;
  assert.deepEqual(again.unacknowledged_tasks.map((t) => t.task_id.value), ['t1']);
  assert.deepEqual(again.unacknowledged_updates.map((u) => u.status.uuid), [status.uuid]);
  // Once acknowledged, neither rides along any more.
  api.emit({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 't1' }, uuid: status.uuid } });
  api.drop();
  await until(() => api.subscribeCalls.length === 3);
  assert.deepEqual(api.subscribeCalls[2].subscribe, { unacknowledged_tasks: [], unacknowledged_updates: [] });
  d.stop();
});

test('with checkpointing it gives up after the recovery timeout', async () => {
  const api = new FakeAgentApi();
  const d = driver(api, true, 300);
  const h = recordingHandlers();
  const done = d.run(h.handlers);
  await until(() => d.connected);
  api.refuseSubscribe = true;
  const lostAt = Date.now();
  api.drop();
  await done;
  const waited = Date.now() - lostAt;
  assert.match(h.lost() ?? '', /MESOS_RECOVERY_TIMEOUT/);
  assert.ok(waited >= 280 && waited < 1500, `gave up after ${waited} ms`);
  assert.ok(api.subscribeCalls.length >= 4, `retried ${api.subscribeCalls.length - 1} times with backoff capped at 40 ms`);
});

test('an ERROR event aborts the subscription and, with checkpointing, re-subscribes', async () => {
  const api = new FakeAgentApi();
  const d = driver(api, true, 5000);
  const h = recordingHandlers();
  void d.run(h.handlers);
  await until(() => d.connected);
  api.emit({ type: 'ERROR', error: { message: 'bad' } });
  await until(() => h.seen.includes('resubscribed'));
  d.stop();
});

test('updates are delivered in order: a later one never overtakes one being retried', async () => {
  const api = new FakeAgentApi();
  api.postFailures = ['network', 503];
  const d = driver(api, false);
  void d.run(recordingHandlers().handlers);
  await until(() => d.connected);
  const first = buildStatus(ids, 't1', 'TASK_STARTING');
  const second = buildStatus(ids, 't1', 'TASK_RUNNING');
  d.sendStatus(first);
  d.sendStatus(second);
  assert.equal(await d.waitForAcknowledgement(second.uuid, 2000), true);
  assert.deepEqual(api.posts.map((c) => c.update?.status.state), ['TASK_STARTING', 'TASK_STARTING', 'TASK_STARTING', 'TASK_RUNNING']);
  d.stop();
});
