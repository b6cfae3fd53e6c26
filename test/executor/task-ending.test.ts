// Every way a task ends, to its terminal update (docs/status-updates.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalStatus, type StopCause } from '../../src/executor/task-ending';

const exited = (code: number, oomKilled = false) => ({ kind: 'exited' as const, code, oomKilled, memoryLimit: 16 * 1048576 });
const gone = { kind: 'gone' as const, container: 'c0ffee000001' };

test('an exit with no stop: the exit code decides, the message names it', () => {
  assert.deepEqual(terminalStatus(exited(0), undefined, undefined), ['TASK_FINISHED', { message: 'Container exited with status 0' }]);
  assert.deepEqual(terminalStatus(exited(143), undefined, undefined), ['TASK_KILLED', { message: 'Container exited with status 143' }]);
  assert.deepEqual(terminalStatus(exited(3), undefined, undefined), ['TASK_FAILED', { message: 'Container exited with status 3' }]);
  assert.deepEqual(terminalStatus(exited(0), undefined, 'KILL from the scheduler'),
    ['TASK_FINISHED', { message: 'Container exited with status 0 after the executor stopped it (KILL from the scheduler)' }]);
});

test('the kernel killed it for its memory limit: TASK_FAILED with the limitation reason, naming the limit', () => {
  assert.deepEqual(terminalStatus(exited(137, true), undefined, undefined), ['TASK_FAILED', {
    reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'Container used more than its memory limit (16 MB) and was killed by the kernel; container exited with status 137',
  }]);
});

test('a stop the executor decided on itself is TASK_FAILED whatever the exit, the same whether the container exited or vanished', () => {
  const causes: [StopCause, Record<string, unknown>, string][] = [
    [{ kind: 'sidecar-unhealthy', detail: 'UNHEALTHY 4 times' }, { healthy: false }, 'Sidecar found the service unhealthy (UNHEALTHY 4 times); '],
    [{ kind: 'check-failed', detail: 'HTTP check failed 3 times' }, { healthy: false }, 'HTTP check failed 3 times; '],
    [{ kind: 'overdue', detail: 'The task ran past its max_completion_time (3 s)' }, { reason: 'REASON_MAX_COMPLETION_TIME_REACHED' }, 'The task ran past its max_completion_time (3 s) and was killed; '],
    [{ kind: 'aws-lease', detail: 'Stopped as its AWS credentials lease nears its end' }, {}, 'Stopped as its AWS credentials lease nears its end; '],
  ];
  for (const [cause, extra, prefix] of causes) {
    for (const [end, what] of [[exited(0), 'container exited with status 0'], [exited(137, true), 'container exited with status 137'],
      [gone, 'container c0ffee000001 is gone: the Docker engine no longer knows it (removed, or its state was lost)']] as const) {
      const [state, fields] = terminalStatus(end, cause, 'its health check failed');
      assert.equal(state, 'TASK_FAILED', `${cause.kind} ${end.kind}`);
      assert.deepEqual(fields, { ...extra, message: prefix + what }, `${cause.kind} ${end.kind}`);
    }
  }
});

test('a container gone while the executor stopped it as asked is TASK_KILLED; gone on its own, TASK_FAILED', () => {
  assert.deepEqual(terminalStatus(gone, undefined, 'KILL from the scheduler'), ['TASK_KILLED', {
    message: 'Container c0ffee000001 is gone: the Docker engine no longer knows it (removed, or its state was lost) while the executor stopped it (KILL from the scheduler)',
  }]);
  assert.equal(terminalStatus(gone, undefined, undefined)[0], 'TASK_FAILED');
});

test('stopped before its container started: TASK_KILLED naming why; max_completion_time keeps its reason', () => {
  assert.deepEqual(terminalStatus({ kind: 'not-started', unfinished: false }, undefined, 'KILL from the scheduler'),
    ['TASK_KILLED', { message: 'Task killed before its container started (KILL from the scheduler)' }]);
  assert.deepEqual(terminalStatus({ kind: 'not-started', unfinished: true }, undefined, 'SHUTDOWN from the agent'),
    ['TASK_KILLED', { message: 'Task killed before its container started (SHUTDOWN from the agent): the launch did not finish within the shutdown grace period' }]);
  assert.deepEqual(terminalStatus({ kind: 'not-started', unfinished: false }, { kind: 'overdue', detail: 'The task ran past its max_completion_time (3 s)' }, 'max_completion_time reached'),
    ['TASK_FAILED', { reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message: 'The task ran past its max_completion_time (3 s) before its container started' }]);
});
