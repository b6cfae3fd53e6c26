import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitsForTask, scalarResource } from '../../src/docker/container-limits';
import type { LimitSettings } from '../../src/docker/container-limits';
import { taskInfoToContainerSpec } from '../../src/docker/container-spec';
import type { Resource, TaskInfo } from '../../src/mesos/types';
import { fixtureTask } from './task-info-fixture';

const OFF: LimitSettings = { forceCpuLimit: false, forceMemoryLimit: false, useCpuShares: false, hostCpus: 8 };

function task(resources: Resource[] | undefined): TaskInfo {
  return { task_id: { value: 't' }, ...(resources === undefined ? {} : { resources }), container: { docker: { image: 'app' } } };
}
const cpus = (value: number): Resource => ({ name: 'cpus', type: 'SCALAR', scalar: { value }, role: '*' });
const mem = (value: number): Resource => ({ name: 'mem', type: 'SCALAR', scalar: { value }, role: '*' });

test('all settings off: no limits even with resources', () => {
  assert.deepEqual(limitsForTask(task([cpus(0.5), mem(128)]), OFF), { limits: {}, warnings: [] });
});

test('ForceCpuLimit: CFS period 50000 and quota floor(cpus * 50000)', () => {
  assert.deepEqual(limitsForTask(task([cpus(0.5)]), { ...OFF, forceCpuLimit: true }).limits, { CpuPeriod: 50000, CpuQuota: 25000 });
  assert.deepEqual(limitsForTask(task([cpus(2)]), { ...OFF, forceCpuLimit: true }).limits, { CpuPeriod: 50000, CpuQuota: 100000 });
  assert.deepEqual(limitsForTask(task([cpus(0.333333)]), { ...OFF, forceCpuLimit: true }).limits, { CpuPeriod: 50000, CpuQuota: 16666 });
});

test("ForceCpuLimit: a quota under Docker's 1ms minimum is raised, with a warning", () => {
  assert.deepEqual(limitsForTask(task([cpus(0.01)]), { ...OFF, forceCpuLimit: true }), {
    limits: { CpuPeriod: 50000, CpuQuota: 1000 },
    warnings: ["CpuQuota for 0.01 cpus is 500us, below Docker's 1ms minimum; raised to 1000us"],
  });
  assert.deepEqual(limitsForTask(task([cpus(0.02)]), { ...OFF, forceCpuLimit: true }), { limits: { CpuPeriod: 50000, CpuQuota: 1000 }, warnings: [] });
});

test('ForceCpuLimit with UseCpuShares: CpuShares floor(1024 * min(cpus / hostCpus, 1)) instead of the quota', () => {
  const shares = { ...OFF, forceCpuLimit: true, useCpuShares: true };
  assert.deepEqual(limitsForTask(task([cpus(2)]), shares), { limits: { CpuShares: 256 }, warnings: [] });
  assert.deepEqual(limitsForTask(task([cpus(3)]), { ...shares, hostCpus: 7 }), { limits: { CpuShares: 438 }, warnings: [] });
  assert.deepEqual(limitsForTask(task([cpus(8)]), shares), { limits: { CpuShares: 1024 }, warnings: [] });
  assert.deepEqual(limitsForTask(task([cpus(12)]), shares), {
    limits: { CpuShares: 1024 },
    warnings: ['the task asks for 12 cpus but the host has 8; CpuShares capped at 1024'],
  });
});

test('UseCpuShares without ForceCpuLimit sets nothing, as in the Go original', () => {
  assert.deepEqual(limitsForTask(task([cpus(2), mem(64)]), { ...OFF, useCpuShares: true }), { limits: {}, warnings: [] });
});

test('CpuShares never rounds down to 0 (which Docker reads as the default 1024)', () => {
  assert.deepEqual(limitsForTask(task([cpus(0.1)]), { ...OFF, forceCpuLimit: true, useCpuShares: true, hostCpus: 128 }), {
    limits: { CpuShares: 2 },
    warnings: ['CpuShares for 0.1 cpus on 128 host CPUs rounds to 0; raised to 2'],
  });
});

test('an unknown host CPU count gives full shares and says so', () => {
  for (const hostCpus of [0, Number.NaN]) {
    assert.deepEqual(limitsForTask(task([cpus(1)]), { ...OFF, forceCpuLimit: true, useCpuShares: true, hostCpus }), {
      limits: { CpuShares: 1024 },
      warnings: [`the host's CPU count is unknown (${hostCpus}); CpuShares assumes the task may use all of it`],
    });
  }
});

test('ForceMemoryLimit: Memory floor(mem MB * 1048576)', () => {
  assert.deepEqual(limitsForTask(task([mem(128)]), { ...OFF, forceMemoryLimit: true }).limits, { Memory: 134217728 });
  assert.deepEqual(limitsForTask(task([mem(100.5)]), { ...OFF, forceMemoryLimit: true }).limits, { Memory: 105381888 });
  assert.deepEqual(limitsForTask(task([mem(0)]), { ...OFF, forceMemoryLimit: true }), { limits: {}, warnings: ["the task's mem resource is 0; no memory limit is set"] });
});

test('CPU and memory are independent', () => {
  assert.deepEqual(limitsForTask(task([cpus(1), mem(32)]), { ...OFF, forceMemoryLimit: true }).limits, { Memory: 33554432 });
  assert.deepEqual(limitsForTask(task([cpus(1), mem(32)]), { ...OFF, forceCpuLimit: true }).limits, { CpuPeriod: 50000, CpuQuota: 50000 });
});

test('without the resource no limit is set, whatever the settings', () => {
  const all = { forceCpuLimit: true, forceMemoryLimit: true, useCpuShares: false, hostCpus: 8 };
  assert.deepEqual(limitsForTask(task(undefined), all), { limits: {}, warnings: [] });
  assert.deepEqual(limitsForTask(task([{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }]), all), { limits: {}, warnings: [] });
  assert.deepEqual(limitsForTask(task([{ name: 'cpus', type: 'SCALAR' }]), all), { limits: {}, warnings: [] });
});

test('scalar resources in several pieces (roles, reservations) are summed', () => {
  const pieces = task([cpus(0.25), { ...cpus(0.5), role: 'web', reservations: [{ type: 'STATIC', role: 'web' }] } as Resource, mem(64), mem(64)]);
  assert.equal(scalarResource(pieces, 'cpus'), 0.75);
  assert.equal(scalarResource(pieces, 'mem'), 128);
  assert.equal(scalarResource(pieces, 'disk'), undefined);
  assert.deepEqual(limitsForTask(pieces, { ...OFF, forceCpuLimit: true, forceMemoryLimit: true }).limits, { CpuPeriod: 50000, CpuQuota: 37500, Memory: 134217728 });
});

test("through the spec: the task's own resources count, not the executor's", () => {
  const ctx = { forceCpuLimit: true, forceMemoryLimit: true, useCpuShares: false, hostCpus: 8, taskHost: undefined, sidecarSeeds: undefined };
  const { HostConfig } = taskInfoToContainerSpec(fixtureTask(), ctx).body;
  assert.equal(HostConfig.CpuPeriod, 50000);
  assert.equal(HostConfig.CpuQuota, 25000);
  assert.equal(HostConfig.CpuShares, undefined);
  assert.equal(HostConfig.Memory, 128 * 1024 * 1024);
  const shares = taskInfoToContainerSpec(fixtureTask(), { ...ctx, useCpuShares: true, hostCpus: 2 }).body.HostConfig;
  assert.equal(shares.CpuShares, 256);
  assert.equal(shares.CpuQuota, undefined);
  assert.equal(shares.CpuPeriod, undefined);
  const off = taskInfoToContainerSpec(fixtureTask(), { ...ctx, forceCpuLimit: false, forceMemoryLimit: false }).body.HostConfig;
  assert.deepEqual([off.CpuPeriod, off.CpuQuota, off.CpuShares, off.Memory], [undefined, undefined, undefined, undefined]);
});
