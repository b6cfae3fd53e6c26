import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerNameForTask } from '../../src/docker/container-name';

// Vectors computed independently with python3: uuid.uuid5(uuid.UUID(int=0), name).
test('matches python uuid5 in the nil namespace', () => {
  assert.equal(containerNameForTask('abc'), 'mesos-b01d8779-68c6-576d-bef4-26488c9c9223');
  assert.equal(containerNameForTask(''), 'mesos-e129f27c-5103-5c5c-844b-cdf0a15e160d');
});

test('matches the Go original for its own test task id', () => {
  assert.equal(
    containerNameForTask('nginx-2392676-1479746266455-1-dev_singularity_sick_sing-DEFAULT'),
    'mesos-f317e960-8579-5258-95c8-96ccca14f317',
  );
});

test('hashes the UTF-8 bytes of a non-ASCII task id', () => {
  assert.equal(containerNameForTask('tâche-ü'), 'mesos-7d13d144-8ee4-51e0-b975-d41e3fac9413');
});

test('is a version 5, RFC 4122 variant UUID and deterministic', () => {
  const name = containerNameForTask('some-task.42');
  assert.match(name, /^mesos-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(containerNameForTask('some-task.42'), name);
  assert.notEqual(containerNameForTask('some-task.43'), name);
});
