import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterValues } from '../../src/docker/docker-parameters';
import { taskInfoToContainerSpec } from '../../src/docker/container-spec';
import { dockerLabels, SHELL_COMMAND_LABEL, taskLabelParameters } from '../../src/docker/task-labels';
import type { Parameter, TaskInfo } from '../../src/mesos/types';

function task(parameters: Parameter[] | undefined): TaskInfo {
  return { task_id: { value: 't' }, container: { type: 'DOCKER', docker: { image: 'app', ...(parameters === undefined ? {} : { parameters }) } } };
}
const CONTEXT = { forceCpuLimit: false, forceMemoryLimit: false, useCpuShares: false, hostCpus: 1, taskHost: undefined, sidecarSeeds: undefined };

test('labels split at the first "="; entries without "=" are ignored; a later key wins', () => {
  const labels = dockerLabels(task([
    { key: 'label', value: 'ANYTHING=123=123' },
    { key: 'label', value: 'novalue' },
    { key: 'label', value: 'empty=' },
    { key: 'label', value: 'HealthCheckArgs=http://{{ host }}:{{ tcp 8080 }}/' },
    { key: 'label', value: 'dup=first' },
    { key: 'label', value: 'dup=second' },
    { key: 'Label', value: 'case=sensitive' },
  ]));
  assert.deepEqual(labels, { ANYTHING: '123=123', empty: '', HealthCheckArgs: 'http://{{ host }}:{{ tcp 8080 }}/', dup: 'second' });
});

test('executor.ShellCommand is a label parameter but not a container label', () => {
  const t = task([{ key: 'label', value: `${SHELL_COMMAND_LABEL}=run --fast` }, { key: 'label', value: 'a=b' }]);
  assert.equal(taskLabelParameters(t).get(SHELL_COMMAND_LABEL), 'run --fast');
  assert.deepEqual(dockerLabels(t), { a: 'b' });
});

test('a label named __proto__ stays an ordinary label', () => {
  const labels = dockerLabels(task([{ key: 'label', value: '__proto__=x' }]));
  assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  assert.deepEqual(Object.entries(labels), [['__proto__', 'x']]);
  assert.equal(JSON.stringify(labels), '{"__proto__":"x"}');
});

test('never throws on a task without container, docker or parameters', () => {
  assert.deepEqual(dockerLabels({ task_id: { value: 't' } }), {});
  assert.deepEqual(dockerLabels(task(undefined)), {});
  assert.deepEqual(dockerLabels(task('junk' as unknown as Parameter[])), {});
  assert.deepEqual(dockerLabels(task([null as unknown as Parameter, { key: 'label' } as Parameter, { key: 'label', value: 'ok=1' }])), { ok: '1' });
});

test('parameterValues keeps task order and matches keys exactly', () => {
  const t = task([{ key: 'cap-add', value: 'NET_ADMIN' }, { key: 'cap-drop', value: 'ALL' }, { key: 'cap-add', value: 'SYS_PTRACE' }, { key: 'cap_add', value: 'X' }]);
  assert.deepEqual(parameterValues(t, 'cap-add'), ['NET_ADMIN', 'SYS_PTRACE']);
  assert.deepEqual(parameterValues(t, 'cap-drop'), ['ALL']);
});

test('through the spec: cap-add and cap-drop lists, volume-driver last wins, none when absent', () => {
  const { HostConfig } = taskInfoToContainerSpec(task([
    { key: 'cap-add', value: 'NET_ADMIN' }, { key: 'volume-driver', value: 'local' }, { key: 'cap-drop', value: 'MKNOD' },
    { key: 'cap-add', value: 'SYS_TIME' }, { key: 'volume-driver', value: 'rexray' }, { key: 'cap-drop', value: 'CHOWN' },
  ]), CONTEXT).body;
  assert.deepEqual(HostConfig.CapAdd, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(HostConfig.CapDrop, ['MKNOD', 'CHOWN']);
  assert.equal(HostConfig.VolumeDriver, 'rexray');
  const bare = taskInfoToContainerSpec(task([]), CONTEXT).body.HostConfig;
  assert.deepEqual([bare.CapAdd, bare.CapDrop, bare.VolumeDriver], [undefined, undefined, undefined]);
});
