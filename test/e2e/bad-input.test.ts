// Bad input gets a terminal update a person understands, nothing is left behind, and the
// executor never crashes with a stack trace (docs/status-updates.md).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, docker, inspect, startRun, TEST_IMAGE, uniqueTaskId } from './harness';
import { dockerTaskInfo } from '../doubles/task-fixtures';
import type { TaskInfo } from '../../src/mesos/types';

after(cleanupAll);

function containersOf(name: string): string {
  return docker('ps', '-aq', '--filter', `name=^/${name}$`);
}

async function expectInvalid(label: string, mutate: (task: TaskInfo) => void, message: RegExp, reason = 'REASON_TASK_INVALID'): Promise<void> {
  const run = await startRun(label, { noLaunch: true });
  try {
    const task = dockerTaskInfo({ image: TEST_IMAGE, taskId: run.taskId, cmd: 'true', labels: { SidecarDiscover: 'false' } });
    mutate(task);
    await run.agent.launch(task);
    const failed = await run.update('TASK_FAILED');
    assert.equal(failed.reason, reason, failed.message);
    assert.match(failed.message ?? '', message);
    assert.equal(await run.executor.waitForExit(), 0);
    assert.equal(containersOf(run.containerName), '', 'no container left behind');
    assert.doesNotMatch(run.executor.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  } finally { await run.cleanup(); }
}

test('a TaskInfo without container', () => expectInvalid('no-container', (t) => { delete t.container; }, /container/));
test('a TaskInfo without container.docker', () => expectInvalid('no-docker', (t) => { delete t.container!.docker; }, /docker/));
test('an empty image name', () => expectInvalid('empty-image', (t) => { t.container!.docker!.image = ''; }, /image/));
test('a malformed image name', () => expectInvalid('bad-image', (t) => { t.container!.docker!.image = 'Bad Image::x'; }, /image/i));
test('a port outside 1..65535', () => expectInvalid('bad-port', (t) => {
  t.container!.docker!.port_mappings = [{ container_port: 70000, host_port: 31000 }];
}, /70000/));
test('a volume without host_path', () => expectInvalid('no-host-path', (t) => {
  t.container!.volumes = [{ mode: 'RW', container_path: '/data' }];
}, /\/data/));

test('an image that cannot be pulled: TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, after 5 attempts', async () => {
  const run = await startRun('no-image', { task: { image: '127.0.0.1:1/missing/image:1.0' } });
  try {
    const failed = await run.update('TASK_FAILED', 60_000);
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /^Pulling image 127\.0\.0\.1:1\/missing\/image:1\.0 failed: .*after 5 attempts/);
    assert.equal(failed.message!.toLowerCase().split('pulling image').length, 2, `the step is named once: ${failed.message}`);
    assert.equal(containersOf(run.containerName), '');
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('a second LAUNCH is failed and the first task runs on untouched', async () => {
  const run = await startRun('second-launch', { task: { cmd: 'sleep 3' } });
  try {
    await run.update('TASK_RUNNING');
    const secondId = uniqueTaskId('second');
    await run.agent.launch(dockerTaskInfo({ image: TEST_IMAGE, taskId: secondId, cmd: 'true' }));
    const failed = await run.agent.waitForUpdate((s) => s.task_id.value === secondId && s.state === 'TASK_FAILED', 10_000);
    assert.match(failed.message ?? '', /already runs task/);
    assert.equal(inspect(run.containerName).State.Running, true);
    await run.update('TASK_FINISHED');
    assert.equal(await run.executor.waitForExit(), 0);
  } finally { await run.cleanup(); }
});

test('a KILL for an unknown task id gets a terminal update; the running task is untouched', async () => {
  const run = await startRun('kill-unknown', { task: { cmd: 'sleep 2' } });
  try {
    await run.update('TASK_RUNNING');
    await run.agent.kill('no-such-task');
    const lost = await run.agent.waitForUpdate((s) => s.task_id.value === 'no-such-task', 10_000);
    assert.equal(lost.state, 'TASK_LOST');
    assert.match(lost.message ?? '', /not running in this executor/);
    assert.equal(inspect(run.containerName).State.Running, true);
    await run.update('TASK_FINISHED');
  } finally { await run.cleanup(); }
});
