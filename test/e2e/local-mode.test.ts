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

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'hello-task.json');
const statusLines = (stdout: string): string[] => stdout.split('\n').filter((l) => /^\S+Z TASK_/.test(l));

test('the example task runs to TASK_FINISHED, printing each update and the container output as it runs; quiet unless --verbose', async () => {
  requireDocker();
  const run = new ExecutorProcess({}, ['local', EXAMPLE]);
  assert.equal(await run.waitForExit(), 0, run.stderr);
  assert.deepEqual(statusLines(run.stdout).map((l) => l.split(' ')[1]!.replace(/:$/, '')), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.match(run.stdout, /TASK_FINISHED: Container exited with status 0/);
  // The container's own lines, between RUNNING and FINISHED, as they came.
  const lines = run.stdout.split('\n');
  const running = lines.findIndex((l) => l.includes('TASK_RUNNING'));
  const finished = lines.findIndex((l) => l.includes('TASK_FINISHED'));
  assert.deepEqual(lines.slice(running + 1, finished), ['hello from sidecar-executor', 'service hello version latest', 'done']);
  // For a person: no banners, no info lines.
  assert.doesNotMatch(run.stderr, /Executor Config|level=info/);

  const verbose = new ExecutorProcess({}, ['local', '--verbose', EXAMPLE]);
  assert.equal(await verbose.waitForExit(), 0, verbose.stderr);
  assert.match(verbose.stderr, /msg="Executor Config -----------------------"/);
  assert.match(verbose.stderr, /msg="Starting container with ID [0-9a-f]{12}"/);
});

test("the task's executor environment applies, as an agent would give it: per-task EXECUTOR_ settings", async () => {
  requireDocker();
  // Quoted words only split as shell words with the task's own ShellCommandQuoting=true.
  const quoted = task('per-task-quoting', { cmd: 'sh -c "echo one two"', executorEnv: { EXECUTOR_SHELL_COMMAND_QUOTING: 'true' } });
  const withQuoting = new ExecutorProcess({ EXECUTOR_SHELL_COMMAND_QUOTING: 'false' }, ['local', taskFile('quoting.json', quoted)]);
  assert.equal(await withQuoting.waitForExit(), 0, withQuoting.output);
  assert.match(withQuoting.stdout, /^one two$/m);
  const plain = task('per-task-plain', { cmd: 'sh -c "echo one two"' });
  const withoutQuoting = new ExecutorProcess({ EXECUTOR_SHELL_COMMAND_QUOTING: 'false' }, ['local', taskFile('plain.json', plain)]);
  assert.equal(await withoutQuoting.waitForExit(), 1, 'split at spaces as the Go executor does: sh -c \'"echo\' fails');
  assert.match(withoutQuoting.stdout, /TASK_FAILED: Container exited with status 2/);
});

test('--dry-run prints the Docker create body, secret values redacted, and creates nothing', async () => {
  requireDocker();
  const t = task('dry-run', { cmd: 'sh -c "echo hi"', executorEnv: { DB_PASSWORD: 'hunter2-secret', API_URL: 'http://api', EXECUTOR_FORCE_MEMORY_LIMIT: 'true' } });
  const run = new ExecutorProcess({ EXECUTOR_SHELL_COMMAND_QUOTING: 'false' }, ['local', '--dry-run', taskFile('dry.json', t)]);
  assert.equal(await run.waitForExit(), 0, run.stderr);
  const printed = JSON.parse(run.stdout) as { name: string; body: { Image: string; Env: string[]; Cmd: string[]; HostConfig: { Memory?: number } } };
  assert.equal(printed.name, containerNameForTask(t.task_id.value));
  assert.equal(printed.body.Image, TEST_IMAGE);
  assert.ok(printed.body.Env.includes('DB_PASSWORD=[REDACTED]'), printed.body.Env.join(' '));
  assert.ok(printed.body.Env.includes('API_URL=http://api'));
  assert.deepEqual(printed.body.Cmd, ['sh', '-c', '"echo', 'hi"'], 'the Go split, as the task would get it');
  assert.equal(typeof printed.body.HostConfig.Memory, 'number', "the task's own ForceMemoryLimit applies");
  assert.doesNotMatch(run.output, /hunter2-secret/);
  assert.equal(docker('ps', '-aq', '--filter', `name=^/${containerNameForTask(t.task_id.value)}$`), '', 'nothing created');
  const invalid = new ExecutorProcess({}, ['local', '--dry-run', taskFile('dry-invalid.json', { task_id: { value: 'x' } })]);
  assert.equal(await invalid.waitForExit(), 1);
  assert.match(invalid.stderr, /^sidecar-executor: invalid task: the task has no container/);
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
