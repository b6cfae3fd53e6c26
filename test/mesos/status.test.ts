import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, newStatusUuid, subscribeCall, updateCall } from '../../src/mesos/status';

const ids = { executorId: 'ex-1', frameworkId: 'fw-1' };

test('status uuids are 16 random RFC 4122 version 4 bytes', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(newStatusUuid(), 'base64');
    assert.equal(bytes.length, 16);
    assert.equal(bytes[6] >> 4, 4, 'version 4');
    assert.equal(bytes[8] >> 6, 0b10, 'RFC 4122 variant');
    seen.add(bytes.toString('hex'));
  }
  assert.equal(seen.size, 200);
});

test('an UPDATE carries the ids, SOURCE_EXECUTOR and a timestamp', () => {
  const status = buildStatus(ids, 't-1', 'TASK_RUNNING', { message: 'm', healthy: true, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' }, 1_700_000_000_000);
  const call = updateCall(ids, status);
  assert.equal(call.type, 'UPDATE');
  assert.deepEqual(call.executor_id, { value: 'ex-1' });
  assert.deepEqual(call.framework_id, { value: 'fw-1' });
  assert.equal(call.update?.status.source, 'SOURCE_EXECUTOR');
  assert.equal(call.update?.status.timestamp, 1_700_000_000);
  assert.equal(call.update?.status.healthy, true);
  assert.deepEqual(call.update?.status.executor_id, { value: 'ex-1' });
  assert.equal('reason' in buildStatus(ids, 't', 'TASK_STARTING'), false);
});

test('SUBSCRIBE carries unacknowledged tasks and updates', () => {
  const status = buildStatus(ids, 't-1', 'TASK_RUNNING');
  const call = subscribeCall(ids, [{ task_id: { value: 't-1' } }], [{ status }]);
  assert.equal(call.subscribe?.unacknowledged_tasks.length, 1);
  assert.equal(call.subscribe?.unacknowledged_updates[0].status.uuid, status.uuid);
});
