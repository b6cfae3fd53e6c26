import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkModeForTask } from '../../src/docker/container-network';
import type { NetworkInfo, TaskInfo } from '../../src/mesos/types';

function task(network: string | undefined, networkInfos?: NetworkInfo[]): TaskInfo {
  return {
    task_id: { value: 't' },
    container: { type: 'DOCKER', ...(networkInfos === undefined ? {} : { network_infos: networkInfos }), docker: { image: 'app', ...(network === undefined ? {} : { network }) } },
  };
}

test('HOST and absent (the proto default) run on the host network', () => {
  assert.equal(networkModeForTask(task('HOST')), 'host');
  assert.equal(networkModeForTask(task(undefined)), 'host');
});

test('BRIDGE runs on Docker\'s default network, NONE on none', () => {
  assert.equal(networkModeForTask(task('BRIDGE')), 'default');
  assert.equal(networkModeForTask(task('NONE')), 'none');
});

test('USER uses the first named network_info', () => {
  assert.equal(networkModeForTask(task('USER', [{ name: 'overlay-a' }, { name: 'overlay-b' }])), 'overlay-a');
  assert.equal(networkModeForTask(task('USER', [{ ip_addresses: [] }, { name: '' }, { name: 'calico', labels: { labels: [] } }])), 'calico');
});

test('USER without a named network_info, and unknown modes, are invalid', () => {
  const message = 'container.docker.network is USER but container.network_infos names no network';
  assert.throws(() => networkModeForTask(task('USER')), { code: 'E_TASK_INVALID', message });
  assert.throws(() => networkModeForTask(task('USER', [])), { message });
  assert.throws(() => networkModeForTask(task('host')), { message: 'container.docker.network "host" is not one of HOST, BRIDGE, NONE or USER' });
});

test('network_infos are ignored unless the network is USER', () => {
  assert.equal(networkModeForTask(task('BRIDGE', [{ name: 'overlay-a' }])), 'default');
});
