// DockerEngineClient's exec calls and the addresses its inspect reads, against the REAL dockerd
// of this machine (the health checks of docs/health-checks.md rely on both).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseDockerHost } from '../../src/docker/docker-host';
import { DockerEngineClient } from '../../src/docker/engine-client';
import type { CreateBody } from '../../src/docker/engine-api';
import { LogDemuxer } from '../../src/docker/log-demux';

const TEST_IMAGE = 'sidecar-executor-test:latest';
const TIMEOUT = { timeout: 60_000 };
const client = new DockerEngineClient(parseDockerHost(process.env.DOCKER_HOST));
const containers: string[] = [];
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

async function running(networkMode: string): Promise<string> {
  const body: CreateBody = { Image: TEST_IMAGE, Cmd: ['sleep', '60'], Env: [], Labels: { 'sce-test': 'yes' }, HostConfig: { NetworkMode: networkMode } };
  const id = await client.createContainer(`sce-test-${randomBytes(6).toString('hex')}`, body);
  containers.push(id);
  await client.startContainer(id);
  return id;
}

async function outputOf(stream: Readable): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const demux = new LogDemuxer();
  for await (const chunk of stream as AsyncIterable<Buffer>) demux.feed(chunk, 0, chunk.length, (s, bytes, start, end) => { out[s] += bytes.toString('utf8', start, end); });
  return out;
}

after(async () => {
  for (const id of containers) await client.removeContainer(id).catch((err) => console.error('clean-up:', err));
});

describe('DockerEngineClient exec (real dockerd)', TIMEOUT, () => {
  it('runs a command in the container: its output ends when it exits, then its exit code is known', async () => {
    const id = await running('none');
    const execId = await client.createExec(id, { cmd: ['sh', '-c', 'echo out; echo "err $A" >&2; exit 3'], env: ['A=from-env'] });
    const output = await outputOf(await client.startExec(execId));
    assert.deepEqual(output, { stdout: 'out\n', stderr: 'err from-env\n' });
    const state = await client.inspectExec(execId);
    assert.equal(state.running, false);
    assert.equal(state.exitCode, 3);
  });

  it('a running exec reports its pid on the host; dockerd lets it run when its caller goes away', async () => {
    const id = await running('none');
    const execId = await client.createExec(id, { cmd: ['sleep', '30'] });
    const stream = await client.startExec(execId);
    stream.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const state = await client.inspectExec(execId);
    assert.equal(state.running, true);
    assert.ok(state.pid > 0);
    assert.deepEqual(docker('inspect', '-f', '{{json .ExecIDs}}', id), JSON.stringify([execId]));
  });
});

describe('DockerEngineClient addresses (real dockerd)', TIMEOUT, () => {
  it("reads a bridge container's address as docker inspect shows it; host networking has none", async () => {
    const bridged = await running('default');
    const ip = docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', bridged);
    const v6 = docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.GlobalIPv6Address}}', bridged);
    const expected = [{ ip, family: 'IPv4' }, ...(v6 ? [{ ip: v6, family: 'IPv6' }] : [])];
    assert.deepEqual((await client.inspectContainer(bridged)).addresses, expected);
    assert.deepEqual((await client.inspectContainer(await running('host'))).addresses, []);
    assert.deepEqual((await client.inspectContainer(await running('none'))).addresses, []);
  });
});
