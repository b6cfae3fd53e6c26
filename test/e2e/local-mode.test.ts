// Local mode (`sidecar-executor local <task.json>`): the README's first Quick start command.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutorProcess, docker, removeTaskContainers, requireDocker, TEST_IMAGE, uniqueTaskId } from './harness';
import { dockerTaskInfo } from '../doubles/task-fixtures';
import { containerNameForTask } from '../../src/docker/container-name';

const dir = mkdtempSync(join(tmpdir(), 'sce-local-'));
const made: string[] = [];
after(() => { for (const id of made) removeTaskContainers(id); });

function taskFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function task(label: string, options: Record<string, unknown> = {}) {
  const taskId = uniqueTaskId(label);
  made.push(taskId);
  return dockerTaskInfo({ image: TEST_IMAGE, taskId, labels: { SidecarDiscover: 'false', 'e2e.task': taskId }, ...options });
}

test('the example task runs to TASK_FINISHED, printing each update', async () => {
  requireDocker();
  const run = new ExecutorProcess({}, ['local', join(__dirname, '..', '..', '..', 'examples', 'hello-task.json')]);
  assert.equal(await run.waitForExit(), 0, run.stderr);
  const states = run.stdout.trim().split('\n').map((l) => l.split(' ')[1].replace(/:$/, ''));
  assert.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.match(run.stdout, /TASK_FINISHED: Container exited with status 0/);
});

test('Ctrl-C sends KILL: the container stops and the run ends killed', async () => {
  requireDocker();
  const t = task('ctrl-c', { cmd: 'sh -c "trap \'\' TERM; sleep 300"' });
  const run = new ExecutorProcess({ EXECUTOR_KILL_TASK_TIMEOUT: '1' }, ['local', taskFile('ctrl-c.json', t)]);
  for (let i = 0; i < 100 && !run.stdout.includes('TASK_RUNNING'); i++) await new Promise((r) => setTimeout(r, 100));
  run.kill('SIGINT');
  assert.equal(await run.waitForExit(), 0);
  assert.match(run.stdout, /TASK_KILLING/);
  assert.match(run.stdout, /TASK_KILLED: Container exited with status 137/);
  assert.equal(JSON.parse(docker('inspect', containerNameForTask(t.task_id.value)))[0].State.Running, false);
});

test('an unknown volume mode fails the task with a clear message', async () => {
  requireDocker();
  const t = task('volume-mode', { cmd: 'true' });
  t.container!.volumes = [{ mode: 'RWX', container_path: '/data', host_path: '/tmp' }];
  const run = new ExecutorProcess({}, ['local', taskFile('mode.json', t)]);
  assert.equal(await run.waitForExit(), 1);
  assert.match(run.stdout, /TASK_FAILED \[REASON_TASK_INVALID\]: Invalid task: .*RWX/);
  assert.equal(docker('ps', '-aq', '--filter', `name=^/${containerNameForTask(t.task_id.value)}$`), '');
});

test('a missing file, bad JSON or a file that is no TaskInfo: one clear line, exit 1', async () => {
  const cases: [string, RegExp][] = [
    [join(dir, 'nope.json'), /cannot read .*nope\.json: ENOENT/],
    [taskFile('bad.json', '{"task_id": '), /bad\.json is not valid JSON/],
    [taskFile('notask.json', { name: 'x' }), /is not a Mesos TaskInfo/],
  ];
  for (const [path, message] of cases) {
    const run = new ExecutorProcess({}, ['local', path]);
    assert.equal(await run.waitForExit(), 1);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1);
  }
});
