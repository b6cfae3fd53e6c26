// The examples in examples/ are what an operator tries first: the Singularity deploy and the
// TaskInfo Singularity sends the executor for it must say the same thing, and local mode must run
// that TaskInfo (a small web service answering /health) until it is stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { containerNameForTask } from '../../src/docker/container-name';
import { docker, ExecutorProcess, requireDocker } from './harness';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const read = (name: string): any => JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8'));

test('the Singularity deploy and its TaskInfo say the same: image, network, ports, parameters, environment, resources, executor', () => {
  const { deploy } = read('singularity-deploy.json');
  const task = read('singularity-taskinfo.json');
  const docker = task.container.docker;
  assert.equal(task.executor.command.value, deploy.customExecutorCmd);
  assert.equal(docker.image, deploy.containerInfo.docker.image);
  assert.equal(docker.network, deploy.containerInfo.docker.network);
  assert.deepEqual(docker.parameters, deploy.containerInfo.docker.dockerParameters);
  assert.deepEqual(docker.port_mappings.map((p: { container_port: number }) => p.container_port),
    deploy.containerInfo.docker.portMappings.map((p: { containerPort: number }) => p.containerPort));
  const env = new Map(task.executor.command.environment.variables.map((v: { name: string; value: string }) => [v.name, v.value]));
  for (const [name, value] of Object.entries(deploy.env)) assert.equal(env.get(name), value, name);
  assert.equal(env.get('TASK_ID'), task.task_id.value);
  const resource = (name: string): number => task.resources.find((r: { name: string }) => r.name === name).scalar.value;
  assert.equal(resource('cpus'), deploy.resources.cpus);
  assert.equal(resource('mem'), deploy.resources.memoryMb);
  const ports = task.resources.find((r: { name: string }) => r.name === 'ports').ranges.range;
  assert.equal(ports.length, deploy.resources.numPorts);
  assert.equal(ports[0].begin, docker.port_mappings[0].host_port);
});

test('local mode runs the Singularity TaskInfo: the service answers /health on its host port until Ctrl-C stops it', async () => {
  requireDocker();
  const task = read('singularity-taskinfo.json');
  const run = new ExecutorProcess({}, ['local', join(EXAMPLES, 'singularity-taskinfo.json')]);
  try {
    for (let i = 0; i < 100 && !run.stdout.includes('TASK_RUNNING'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(run.stdout, /TASK_RUNNING/, run.output);
    const port = task.container.docker.port_mappings[0].host_port;
    let body = '';
    for (let i = 0; i < 50 && body !== 'ok\n'; i++) {
      body = await new Promise<string>((resolve) => {
        request({ host: '127.0.0.1', port, path: '/health' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => { text += c.toString(); });
          res.on('end', () => resolve(text));
        }).on('error', () => resolve('')).end();
      });
      if (body !== 'ok\n') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'ok\n');
    run.kill('SIGINT');
    assert.equal(await run.waitForExit(30_000), 0, run.output);
    assert.match(run.stdout, /TASK_KILLING/);
    assert.match(run.stdout, /TASK_(KILLED|FINISHED): Container exited with status \d+ after the executor stopped it/);
  } finally {
    run.kill('SIGKILL');
    try { docker('rm', '-f', containerNameForTask(task.task_id.value)); } catch { /* gone */ }
  }
});
