import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envForTask } from '../../src/docker/container-env';
import type { EnvInputs } from '../../src/docker/container-env';
import { taskInfoToContainerSpec } from '../../src/docker/container-spec';
import type { TaskInfo } from '../../src/mesos/types';
import { dockerOf, fixtureTask } from './task-info-fixture';

const LABELS = new Map([['ServiceName', 'svc'], ['EnvironmentName', 'prod']]);
const INPUTS: EnvInputs = { labels: LABELS, image: 'reg:5000/team/app:2.3', portEnv: ['MESOS_PORT_80=31000'], taskHost: 'agent-7', sidecarSeeds: ['s1', 's2'] };

function withExecutorEnv(variables: unknown[]): TaskInfo {
  return {
    task_id: { value: 't' },
    executor: { executor_id: { value: 'e' }, command: { shell: true, value: 'x', environment: { variables } } },
    container: { type: 'DOCKER', docker: { image: 'app', parameters: [{ key: 'env', value: 'B=2' }, { key: 'label', value: 'x=y' }, { key: 'env', value: 'A=1' }] } },
  };
}

test('every source, in the documented order', () => {
  const { env, warnings } = envForTask(withExecutorEnv([{ name: 'TASK_HOST', type: 'VALUE', value: 'agent-7' }, { name: 'Z', value: 'z' }]), INPUTS);
  assert.deepEqual(env, [
    'TASK_HOST=agent-7',
    'Z=z',
    'B=2',
    'A=1',
    'SIDECAR_SEEDS=s1,s2',
    'MESOS_PORT_80=31000',
    'MESOS_HOSTNAME=agent-7',
    'SERVICE_NAME=svc',
    'ENVIRONMENT_NAME=prod',
    'SERVICE_VERSION=2.3',
  ]);
  assert.deepEqual(warnings, []);
});

test('executor variables come first, env parameters after them, both in given order', () => {
  const { env } = envForTask(withExecutorEnv([{ name: 'B', value: 'executor' }]), { ...INPUTS, sidecarSeeds: undefined, portEnv: [] });
  assert.deepEqual(env.slice(0, 3), ['B=executor', 'B=2', 'A=1']);
});

test('an executor variable with an empty value is kept; one without a value is skipped with a warning that shows no value', () => {
  const { env, warnings } = envForTask(withExecutorEnv([
    { name: 'EMPTY', type: 'VALUE', value: '' },
    { name: 'DB_PASSWORD', type: 'SECRET', secret: { type: 'VALUE', value: { data: 'c2VjcmV0' } } },
    { name: 'NO_TYPE' },
    { value: 'orphan' },
    'garbage',
  ]), INPUTS);
  assert.equal(env[0], 'EMPTY=');
  assert.equal(env[1], 'B=2');
  assert.deepEqual(warnings, [
    'executor environment variable DB_PASSWORD (type SECRET) has no value and is not passed to the container',
    'executor environment variable NO_TYPE has no value and is not passed to the container',
    'an executor environment variable without a name was skipped',
    'an executor environment variable without a name was skipped',
  ]);
  assert.ok(!warnings.join(' ').includes('c2VjcmV0'));
  assert.ok(!warnings.join(' ').includes('orphan'));
});

test('no executor, no command, no environment: nothing from the executor', () => {
  for (const executor of [undefined, {}, { command: {} }, { command: { environment: {} } }, { command: { environment: { variables: 'x' } } }, 'junk']) {
    const task = withExecutorEnv([]);
    task.executor = executor;
    assert.deepEqual(envForTask(task, INPUTS).env.slice(0, 2), ['B=2', 'A=1']);
  }
});

test('env parameters go in verbatim, even without "=" or with several', () => {
  const task = withExecutorEnv([]);
  dockerOf(task).parameters = [{ key: 'env', value: 'JAVA_OPTS=-Xmx1g -Dx=y' }, { key: 'env', value: 'UNSET_ME' }, { key: 'env', value: 'V=vault://secret/db?key=pw' }, { key: 'ENV', value: 'NOT=matched' }];
  assert.deepEqual(envForTask(task, { ...INPUTS, sidecarSeeds: undefined, portEnv: [] }).env.slice(0, 3), ['JAVA_OPTS=-Xmx1g -Dx=y', 'UNSET_ME', 'V=vault://secret/db?key=pw']);
});

test('SIDECAR_SEEDS only when seeds are given; an empty list gives an empty value, as in the Go original', () => {
  const task = withExecutorEnv([]);
  assert.ok(!envForTask(task, { ...INPUTS, sidecarSeeds: undefined }).env.some((e) => e.startsWith('SIDECAR_SEEDS')));
  assert.ok(envForTask(task, { ...INPUTS, sidecarSeeds: [] }).env.includes('SIDECAR_SEEDS='));
  assert.ok(envForTask(task, { ...INPUTS, sidecarSeeds: ['only'] }).env.includes('SIDECAR_SEEDS=only'));
});

test('MESOS_HOSTNAME only when TASK_HOST is known and not empty', () => {
  const task = withExecutorEnv([]);
  assert.ok(!envForTask(task, { ...INPUTS, taskHost: undefined }).env.some((e) => e.startsWith('MESOS_HOSTNAME')));
  assert.ok(!envForTask(task, { ...INPUTS, taskHost: '' }).env.some((e) => e.startsWith('MESOS_HOSTNAME')));
});

test('SERVICE_NAME and ENVIRONMENT_NAME each only when their label is present (an empty value counts)', () => {
  const task = withExecutorEnv([]);
  const none = envForTask(task, { ...INPUTS, labels: new Map() });
  assert.ok(!none.env.some((e) => e.startsWith('SERVICE_NAME') || e.startsWith('ENVIRONMENT_NAME')));
  assert.deepEqual(none.warnings, ['no ServiceName label: SERVICE_NAME is not set', 'no EnvironmentName label: ENVIRONMENT_NAME is not set']);
  const onlyEnv = envForTask(task, { ...INPUTS, labels: new Map([['EnvironmentName', '']]) });
  assert.deepEqual(onlyEnv.env.slice(-2), ['ENVIRONMENT_NAME=', 'SERVICE_VERSION=2.3']);
});

test('SERVICE_VERSION from the tag after the last slash; none for an untagged or digest-only image', () => {
  const task = withExecutorEnv([]);
  const last = (image: string): string | undefined => envForTask(task, { ...INPUTS, image }).env.at(-1);
  assert.equal(last('registry:5000/app:1.2'), 'SERVICE_VERSION=1.2');
  assert.equal(last('registry:5000/app'), 'ENVIRONMENT_NAME=prod');
  assert.equal(last('app@sha256:' + 'a'.repeat(64)), 'ENVIRONMENT_NAME=prod');
  assert.equal(last('app:7@sha256:' + 'a'.repeat(64)), 'SERVICE_VERSION=7');
});

test('through the spec: the MESOS_PORT_* variables follow the port mappings with both ports', () => {
  const task = fixtureTask();
  dockerOf(task).port_mappings = [
    { host_port: 31001, container_port: 80 },
    { host_port: 0, container_port: 81 },
    { container_port: 82 },
    { host_port: 31002, container_port: 53, protocol: 'udp' },
  ];
  const { body } = taskInfoToContainerSpec(task, { forceCpuLimit: false, forceMemoryLimit: false, useCpuShares: false, hostCpus: 4, taskHost: 'h', sidecarSeeds: ['x'] });
  assert.deepEqual(body.Env.slice(4), ['SIDECAR_SEEDS=x', 'MESOS_PORT_80=31001', 'MESOS_PORT_53=31002', 'MESOS_HOSTNAME=h', 'SERVICE_NAME=dev-test-app', 'ENVIRONMENT_NAME=dev', 'SERVICE_VERSION=1.0.0']);
});
