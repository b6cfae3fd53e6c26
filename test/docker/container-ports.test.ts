import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portsForTask } from '../../src/docker/container-ports';
import type { PortMapping, TaskInfo } from '../../src/mesos/types';

function task(mappings: PortMapping[] | undefined): TaskInfo {
  return { task_id: { value: 't' }, container: { type: 'DOCKER', docker: { image: 'app', network: 'BRIDGE', ...(mappings === undefined ? {} : { port_mappings: mappings }) } } };
}

test('no port mappings: nothing exposed, bound or announced', () => {
  assert.deepEqual(portsForTask(task(undefined)), { exposedPorts: {}, portBindings: {}, portEnv: [] });
  assert.deepEqual(portsForTask(task([])), { exposedPorts: {}, portBindings: {}, portEnv: [] });
});

test('a mapping with both ports is exposed, bound with HostPort as a string, and announced', () => {
  const plan = portsForTask(task([{ host_port: 31000, container_port: 8080, protocol: 'tcp' }]));
  assert.deepEqual(plan.exposedPorts, { '8080/tcp': {} });
  assert.deepEqual(plan.portBindings, { '8080/tcp': [{ HostPort: '31000' }] });
  assert.equal(typeof plan.portBindings['8080/tcp']![0]!.HostPort, 'string');
  assert.deepEqual(plan.portEnv, ['MESOS_PORT_8080=31000']);
});

test('a container port alone (absent or 0 host port) is only exposed', () => {
  for (const mapping of [{ container_port: 8080 }, { host_port: 0, container_port: 8080 }]) {
    assert.deepEqual(portsForTask(task([mapping])), { exposedPorts: { '8080/tcp': {} }, portBindings: {}, portEnv: [] });
  }
});

test('a mapping with neither port (0/0, as a required proto field arrives unset) is skipped', () => {
  assert.deepEqual(portsForTask(task([{ host_port: 0, container_port: 0 }, {}])), { exposedPorts: {}, portBindings: {}, portEnv: [] });
});

test('protocols: empty and absent mean tcp; lists with or without spaces; case and duplicates folded', () => {
  const keys = (protocol: string | undefined): string[] =>
    Object.keys(portsForTask(task([{ host_port: 31000, container_port: 53, ...(protocol === undefined ? {} : { protocol }) }])).portBindings);
  assert.deepEqual(keys(undefined), ['53/tcp']);
  assert.deepEqual(keys(''), ['53/tcp']);
  assert.deepEqual(keys('udp'), ['53/udp']);
  assert.deepEqual(keys('tcp,udp'), ['53/tcp', '53/udp']);
  assert.deepEqual(keys('tcp, udp'), ['53/tcp', '53/udp']);
  assert.deepEqual(keys(' UDP ,tcp,'), ['53/udp', '53/tcp']);
  assert.deepEqual(keys('tcp,tcp'), ['53/tcp']);
  assert.deepEqual(keys(','), ['53/tcp']);
  assert.deepEqual(keys('sctp'), ['53/sctp']);
});

test('multi-protocol mappings expose and bind every protocol, announced once', () => {
  const plan = portsForTask(task([{ host_port: 10271, container_port: 9090, protocol: 'tcp,udp' }]));
  assert.deepEqual(plan.exposedPorts, { '9090/tcp': {}, '9090/udp': {} });
  assert.deepEqual(plan.portBindings, { '9090/tcp': [{ HostPort: '10271' }], '9090/udp': [{ HostPort: '10271' }] });
  assert.deepEqual(plan.portEnv, ['MESOS_PORT_9090=10271']);
});

test('one container port bound to several host ports keeps every binding', () => {
  const plan = portsForTask(task([{ host_port: 31000, container_port: 80 }, { host_port: 31001, container_port: 80 }, { host_port: 31000, container_port: 80 }]));
  assert.deepEqual(plan.portBindings, { '80/tcp': [{ HostPort: '31000' }, { HostPort: '31001' }] });
  assert.deepEqual(plan.exposedPorts, { '80/tcp': {} });
  assert.deepEqual(plan.portEnv, ['MESOS_PORT_80=31000', 'MESOS_PORT_80=31001', 'MESOS_PORT_80=31000']);
});

test('the range limits are accepted; proto3 decimal strings are read as numbers', () => {
  const plan = portsForTask(task([{ host_port: 65535, container_port: 1 }, { host_port: '31000' as unknown as number, container_port: '80' as unknown as number }]));
  assert.deepEqual(plan.portEnv, ['MESOS_PORT_1=65535', 'MESOS_PORT_80=31000']);
});

test('the invalid cases name the mapping and the field', () => {
  assert.throws(() => portsForTask(task([{ host_port: 1, container_port: 99999 }])), { code: 'E_TASK_INVALID', message: 'container.docker.port_mappings[0].container_port 99999 is not a port number in 1..65535' });
  assert.throws(() => portsForTask(task([null as unknown as PortMapping])), { message: 'container.docker.port_mappings[0] is not a port mapping object' });
  assert.throws(() => portsForTask(task([{ container_port: 80, protocol: 6 as unknown as string }])), { message: 'container.docker.port_mappings[0].protocol must be a string' });
});
