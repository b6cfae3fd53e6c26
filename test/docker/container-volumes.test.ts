import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindsForTask } from '../../src/docker/container-volumes';
import type { TaskInfo, Volume } from '../../src/mesos/types';

function task(volumes: Volume[] | undefined): TaskInfo {
  return { task_id: { value: 't' }, container: { type: 'DOCKER', ...(volumes === undefined ? {} : { volumes }), docker: { image: 'app' } } };
}

test('no volumes: no binds', () => {
  assert.deepEqual(bindsForTask(task(undefined)), []);
  assert.deepEqual(bindsForTask(task([])), []);
});

test('RW and absent mode bind read-write, RO appends :ro, in task order', () => {
  assert.deepEqual(bindsForTask(task([
    { container_path: '/etc/app', host_path: '/srv/app/etc', mode: 'RO' },
    { container_path: '/data', host_path: '/srv/data', mode: 'RW' },
    { container_path: '/cache', host_path: '/srv/cache' },
  ])), ['/srv/app/etc:/etc/app:ro', '/srv/data:/data', '/srv/cache:/cache']);
});

test('a named volume (for a volume-driver) passes through as host_path', () => {
  assert.deepEqual(bindsForTask(task([{ container_path: '/data', host_path: 'my-volume', mode: 'RW' }])), ['my-volume:/data']);
});

test('invalid volumes name what is wrong', () => {
  assert.throws(() => bindsForTask(task([{ container_path: '/data', mode: 'RO' }])), {
    code: 'E_TASK_INVALID',
    message: 'container.volumes[0] (container_path "/data") has no host_path: only host-path volumes can be bound into a Docker container',
  });
  assert.throws(() => bindsForTask(task([{ container_path: '/a', host_path: '/b', mode: 'ro' }])), { message: 'container.volumes[0] (container_path "/a") has mode "ro"; expected RW or RO' });
  assert.throws(() => bindsForTask(task([{ container_path: '/a:b', host_path: '/b' }])), { message: 'container.volumes[0].container_path "/a:b" contains ":", which a Docker bind cannot express' });
  assert.throws(() => bindsForTask(task([7 as unknown as Volume])), { message: 'container.volumes[0] is not a volume object' });
});
