import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskInfoToContainerSpec } from '../../src/docker/container-spec';
import type { SpecContext } from '../../src/docker/container-spec';
import { TaskInvalidError } from '../../src/docker/task-invalid-error';
import type { TaskInfo } from '../../src/mesos/types';
import { dockerOf, FIXTURE_CONTAINER_NAME, fixtureTask } from './task-info-fixture';

const TASK_ID = 'nginx-2392676-1479746266455-1-dev_singularity_sick_sing-DEFAULT';
const CONTEXT: SpecContext = { forceCpuLimit: false, forceMemoryLimit: false, useCpuShares: false, hostCpus: 8, taskHost: 'beowulf.example.com', sidecarSeeds: undefined };

function invalid(task: TaskInfo, message: string): void {
  assert.throws(() => taskInfoToContainerSpec(task, CONTEXT), (error: unknown) => {
    assert.ok(error instanceof TaskInvalidError, `expected TaskInvalidError, got ${String(error)}`);
    assert.equal(error.code, 'E_TASK_INVALID');
    assert.equal(error.message, message);
    return true;
  });
}

test('the realistic agent TaskInfo becomes the create body, field by field', () => {
  const spec = taskInfoToContainerSpec(fixtureTask(), CONTEXT);
  assert.equal(spec.name, FIXTURE_CONTAINER_NAME);
  assert.equal(spec.image, 'foo/foo:1.0.0');
  assert.equal(spec.body.Image, 'foo/foo:1.0.0');
  assert.equal(spec.body.Cmd, undefined);
  assert.deepEqual(spec.body.Env, [
    'TASK_HOST=beowulf.example.com',
    `TASK_ID=${TASK_ID}`,
    'EXECUTOR_SIDECAR_MAX_FAILS=5',
    'SOMETHING=123=123',
    'MESOS_PORT_443=10270',
    'MESOS_PORT_9090=10271',
    'MESOS_HOSTNAME=beowulf.example.com',
    'SERVICE_NAME=dev-test-app',
    'ENVIRONMENT_NAME=dev',
    'SERVICE_VERSION=1.0.0',
  ]);
  assert.deepEqual(spec.body.Labels, { ANYTHING: '123=123', ServiceName: 'dev-test-app', EnvironmentName: 'dev', HealthCheck: 'HttpGet' });
  assert.deepEqual(spec.labels, spec.body.Labels);
  assert.deepEqual(spec.body.ExposedPorts, { '8080/tcp': {}, '443/tcp': {}, '9090/tcp': {}, '9090/udp': {} });
  assert.deepEqual(spec.body.HostConfig, {
    NetworkMode: 'default',
    Binds: ['/tmp/elsewhere:/tmp/somewhere:ro', '/tmp/bar:/tmp/foo'],
    PortBindings: { '443/tcp': [{ HostPort: '10270' }], '9090/tcp': [{ HostPort: '10271' }], '9090/udp': [{ HostPort: '10271' }] },
    CapAdd: ['NET_ADMIN'],
    CapDrop: ['MKNOD'],
    VolumeDriver: 'driver_test',
  });
  assert.equal(spec.sidecarDiscover, true);
  assert.equal(spec.forcePull, false);
  assert.deepEqual(spec.warnings, []);
});

test('the body serialises to the JSON the Engine API expects', () => {
  const json = JSON.parse(JSON.stringify(taskInfoToContainerSpec(fixtureTask(), CONTEXT).body)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), ['Env', 'ExposedPorts', 'HostConfig', 'Image', 'Labels']);
  assert.deepEqual((json['ExposedPorts'] as Record<string, unknown>)['9090/udp'], {});
});

test('does not modify the TaskInfo it is given', () => {
  const task = fixtureTask();
  taskInfoToContainerSpec(task, { ...CONTEXT, forceCpuLimit: true, forceMemoryLimit: true, sidecarSeeds: ['a'] });
  assert.deepEqual(task, fixtureTask());
});

test('a minimal task: only task_id and container.docker.image', () => {
  const spec = taskInfoToContainerSpec({ task_id: { value: 't1' }, container: { docker: { image: 'nginx' } } }, { ...CONTEXT, taskHost: undefined });
  assert.deepEqual(spec.body, { Image: 'nginx', Env: [], Labels: {}, HostConfig: { NetworkMode: 'host' } });
  assert.deepEqual(spec.labels, {});
  assert.equal(spec.sidecarDiscover, true);
  assert.deepEqual(spec.warnings, ['no ServiceName label: SERVICE_NAME is not set', 'no EnvironmentName label: ENVIRONMENT_NAME is not set']);
});

test('tolerates unknown fields and default-valued fields anywhere', () => {
  const task = fixtureTask() as TaskInfo & Record<string, unknown>;
  task['health_check'] = { type: 'HTTP', http: { port: 8080 } };
  task['max_completion_time'] = { nanoseconds: 1 };
  const docker = dockerOf(task) as Record<string, unknown>;
  docker['network'] = 'HOST';
  docker['unknown_docker_field'] = [1, 2];
  (task.container as Record<string, unknown>)['linux_info'] = { share_pid_namespace: false };
  (task.container as Record<string, unknown>)['hostname'] = 'ignored';
  const spec = taskInfoToContainerSpec(task, CONTEXT);
  assert.equal(spec.body.HostConfig.NetworkMode, 'host');
  assert.equal(spec.name, FIXTURE_CONTAINER_NAME);
});

test('force_pull_image is reported as forcePull', () => {
  const task = fixtureTask();
  dockerOf(task).force_pull_image = true;
  assert.equal(taskInfoToContainerSpec(task, CONTEXT).forcePull, true);
});

test('executor.ShellCommand becomes Cmd, split on every single space exactly as the Go original, and is not a label', () => {
  for (const [command, words] of [
    ['sh -c "echo a b; sleep 10"', ['sh', '-c', '"echo', 'a', 'b;', 'sleep', '10"']],
    ["echo it's a test", ['echo', "it's", 'a', 'test']],
    ['java -Dfoo="bar baz" C:\\path', ['java', '-Dfoo="bar', 'baz"', 'C:\\path']],
    ['a  b ', ['a', '', 'b', '']],
    ['\tx', ['\tx']],
  ] as const) {
    const task = fixtureTask();
    dockerOf(task).parameters!.push({ key: 'label', value: `executor.ShellCommand=${command}` });
    const spec = taskInfoToContainerSpec(task, CONTEXT);
    assert.deepEqual(spec.body.Cmd, words, command);
    assert.equal('executor.ShellCommand' in spec.body.Labels, false);
    assert.equal('executor.ShellCommand' in spec.labels, false);
  }
});

test('ShellCommandQuoting=true: executor.ShellCommand is split with shell quoting', () => {
  const task = fixtureTask();
  dockerOf(task).parameters!.push({ key: 'label', value: 'executor.ShellCommand=sh -c "echo a b; sleep 10"' });
  const spec = taskInfoToContainerSpec(task, { ...CONTEXT, shellCommandQuoting: true });
  assert.deepEqual(spec.body.Cmd, ['sh', '-c', 'echo a b; sleep 10']);
});

test('an empty executor.ShellCommand leaves the image command, with a warning', () => {
  const task = fixtureTask();
  dockerOf(task).parameters!.push({ key: 'label', value: 'executor.ShellCommand=  ' });
  const spec = taskInfoToContainerSpec(task, CONTEXT);
  assert.equal(spec.body.Cmd, undefined);
  assert.deepEqual(spec.warnings, ["label executor.ShellCommand is empty; the image's own command runs"]);
});

test('SidecarDiscover: only a ParseBool false turns discovery off; the label stays on the container', () => {
  for (const [value, expected] of [
    ['false', false], ['0', false], ['f', false], ['F', false], ['FALSE', false], ['False', false],
    ['true', true], ['1', true], ['no', true], ['off', true], ['', true], ['fAlSe', true], [' false', true],
  ] as const) {
    const task = fixtureTask();
    dockerOf(task).parameters!.push({ key: 'label', value: `SidecarDiscover=${value}` });
    const spec = taskInfoToContainerSpec(task, CONTEXT);
    assert.equal(spec.sidecarDiscover, expected, `SidecarDiscover=${JSON.stringify(value)}`);
    assert.equal(spec.labels['SidecarDiscover'], value);
  }
  const last = fixtureTask();
  dockerOf(last).parameters!.push({ key: 'label', value: 'SidecarDiscover=false' }, { key: 'label', value: 'SidecarDiscover=true' });
  assert.equal(taskInfoToContainerSpec(last, CONTEXT).sidecarDiscover, true);
});

test('privileged and DockerInfo.volume_driver are ignored with a warning, as the Go original ignored them', () => {
  const task = fixtureTask();
  dockerOf(task).privileged = true;
  dockerOf(task).volume_driver = 'rexray';
  const spec = taskInfoToContainerSpec(task, CONTEXT);
  assert.deepEqual(spec.warnings, ['container.docker.privileged is not supported and is ignored', 'container.docker.volume_driver is ignored; use a volume-driver parameter']);
  assert.equal(spec.body.HostConfig.VolumeDriver, 'driver_test');
});

test('warnings from the env and the limits are gathered', () => {
  const task = fixtureTask();
  (task.executor as { command: { environment: { variables: unknown[] } } }).command.environment.variables.push({ name: 'DB_PASSWORD', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: 'db' } } });
  task.resources!.push({ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } });
  const spec = taskInfoToContainerSpec(task, { ...CONTEXT, forceCpuLimit: true });
  assert.deepEqual(spec.warnings, [
    'executor environment variable DB_PASSWORD (type SECRET) has no value and is not passed to the container',
    "the task's cpus resource is -0.5; no CPU limit is set",
  ]);
});

test('invalid: no task id', () => {
  const task = fixtureTask();
  (task as Record<string, unknown>)['task_id'] = undefined;
  invalid(task, 'the task has no task_id');
});

test('invalid: no container, a non-DOCKER container, no docker', () => {
  const none = fixtureTask();
  delete none.container;
  invalid(none, 'the task has no container: sidecar-executor runs each task as a Docker container and needs container.docker.image');
  const mesos = fixtureTask();
  mesos.container!.type = 'MESOS';
  invalid(mesos, 'container.type is "MESOS"; sidecar-executor runs only DOCKER containers');
  const noDocker = fixtureTask();
  delete noDocker.container!.docker;
  invalid(noDocker, 'the task has no container.docker, so there is no image to run');
  const absentType = fixtureTask();
  delete absentType.container!.type;
  assert.equal(taskInfoToContainerSpec(absentType, CONTEXT).image, 'foo/foo:1.0.0');
});

test('invalid: missing, empty, non-string or malformed image', () => {
  const cases: [unknown, string][] = [
    [undefined, 'container.docker has no image'],
    ['', 'container.docker.image is empty'],
    [42, 'container.docker.image must be a string'],
    ['team/App:1', 'container.docker.image "team/App:1" is not a valid Docker image reference: repository name "team/App" must be lowercase'],
    ['nginx latest', 'container.docker.image "nginx latest" is not a valid Docker image reference: the image name contains whitespace'],
    ['app:', 'container.docker.image "app:" is not a valid Docker image reference: tag "" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"'],
  ];
  for (const [image, message] of cases) {
    const task = fixtureTask();
    (dockerOf(task) as Record<string, unknown>)['image'] = image;
    invalid(task, message);
  }
});

test('invalid: ports outside 1..65535, a host port without a container port, an unknown protocol', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ host_port: 70000, container_port: 80 }, 'container.docker.port_mappings[1].host_port 70000 is not a port number in 1..65535'],
    [{ host_port: 31000, container_port: -1 }, 'container.docker.port_mappings[1].container_port -1 is not a port number in 1..65535'],
    [{ host_port: 31000, container_port: 65536 }, 'container.docker.port_mappings[1].container_port 65536 is not a port number in 1..65535'],
    [{ host_port: 31000.5, container_port: 80 }, 'container.docker.port_mappings[1].host_port 31000.5 is not a port number in 1..65535'],
    [{ host_port: 'http', container_port: 80 }, 'container.docker.port_mappings[1].host_port "http" is not a port number in 1..65535'],
    [{ host_port: 31000 }, 'container.docker.port_mappings[1] binds host_port 31000 but has no container_port'],
    [{ host_port: 31000, container_port: 80, protocol: 'tcp,http' }, 'container.docker.port_mappings[1].protocol "tcp,http" names unknown protocol "http" (expected tcp, udp or sctp)'],
  ];
  for (const [mapping, message] of cases) {
    const task = fixtureTask();
    dockerOf(task).port_mappings![1] = mapping;
    invalid(task, message);
  }
});

test('invalid: volumes without host_path or container_path, with an unknown mode or a colon', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ container_path: '/data', mode: 'RW', source: { type: 'DOCKER_VOLUME', docker_volume: { name: 'v' } } },
      'container.volumes[1] (container_path "/data") has no host_path: only host-path volumes can be bound into a Docker container'],
    [{ container_path: '/data', host_path: '', mode: 'RO' },
      'container.volumes[1] (container_path "/data") has no host_path: only host-path volumes can be bound into a Docker container'],
    [{ host_path: '/var/x', mode: 'RW' }, 'container.volumes[1] (host_path "/var/x") has no container_path'],
    [{ mode: 'RW', image: { type: 'DOCKER' } }, 'container.volumes[1] has no container_path'],
    [{ container_path: '/data', host_path: '/var/x', mode: 'RX' }, 'container.volumes[1] (container_path "/data") has mode "RX"; expected RW or RO'],
    [{ container_path: '/data', host_path: '/var/a:b' }, 'container.volumes[1].host_path "/var/a:b" contains ":", which a Docker bind cannot express'],
  ];
  for (const [volume, message] of cases) {
    const task = fixtureTask();
    task.container!.volumes![1] = volume;
    invalid(task, message);
  }
});

test('invalid: a USER network without a named network_info, an unknown network', () => {
  const user = fixtureTask();
  dockerOf(user).network = 'USER';
  invalid(user, 'container.docker.network is USER but container.network_infos names no network');
  user.container!.network_infos = [{ ip_addresses: [{ protocol: 'IPv4' }] }];
  invalid(user, 'container.docker.network is USER but container.network_infos names no network');
  const odd = fixtureTask();
  dockerOf(odd).network = 'OVERLAY';
  invalid(odd, 'container.docker.network "OVERLAY" is not one of HOST, BRIDGE, NONE or USER');
});

test('an unterminated quote in executor.ShellCommand: literal by default, the task invalid with ShellCommandQuoting', () => {
  const task = fixtureTask();
  dockerOf(task).parameters!.push({ key: 'label', value: 'executor.ShellCommand=sh -c "echo a b' });
  assert.deepEqual(taskInfoToContainerSpec(task, CONTEXT).body.Cmd, ['sh', '-c', '"echo', 'a', 'b'], 'literal quotes by default');
  assert.throws(() => taskInfoToContainerSpec(task, { ...CONTEXT, shellCommandQuoting: true }), (error: unknown) => {
    assert.equal((error as Error).message, 'label executor.ShellCommand "sh -c \\"echo a b" cannot be split into words (ShellCommandQuoting): unterminated double quote (opened at character 7)');
    return true;
  });
});

test('invalid: port_mappings or volumes that are not lists', () => {
  const ports = fixtureTask();
  (dockerOf(ports) as Record<string, unknown>)['port_mappings'] = { host_port: 1 };
  invalid(ports, 'container.docker.port_mappings must be a list');
  const volumes = fixtureTask();
  (volumes.container as Record<string, unknown>)['volumes'] = 'x';
  invalid(volumes, 'container.volumes must be a list');
});
