// Whether a container's owner is certainly gone (docs/faults.md): only then may it be stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_LABELS, exitedFromStat, ownerLabels, ownerVerdict, startTimeFromStat, type PidProbe, type ProcessIdentity } from '../../src/docker/owner-labels';

const ME: ProcessIdentity = { pid: 4242, startTime: '123456', pidNamespace: 'pid:[4026531836]' };
const OWNER: ProcessIdentity = { pid: 777, startTime: '99000', pidNamespace: 'pid:[4026531836]' };
const labels = ownerLabels({ executorId: 'web-1', frameworkId: 'fw-0001' }, OWNER);

const probes = (table: Record<number, PidProbe>) => (pid: number): PidProbe => table[pid] ?? { kind: 'none' };

test('the labels name the executor, its framework and the owning process', () => {
  assert.deepEqual(labels, {
    'sidecar-executor.executor-id': 'web-1',
    'sidecar-executor.framework-id': 'fw-0001',
    'sidecar-executor.pid': '777',
    'sidecar-executor.pid-start-time': '99000',
    'sidecar-executor.pid-namespace': 'pid:[4026531836]',
  });
});

test('gone: no process with the pid, or the pid reused by a later process', () => {
  assert.deepEqual(ownerVerdict(labels, ME, probes({})), { gone: true, why: "no process has its owner's pid 777" });
  const reused = ownerVerdict(labels, ME, probes({ 777: { kind: 'alive', startTime: '99001' } }));
  assert.equal(reused.gone, true);
  assert.match(reused.why, /now belongs to a process that started later/);
});

test('gone: an owner that exited but was never reaped (a zombie keeps its /proc entry and start time)', () => {
  const zombie = ownerVerdict(labels, ME, probes({ 777: { kind: 'exited', startTime: '99000' } }));
  assert.deepEqual(zombie, { gone: true, why: 'its owner (pid 777) exited and was not reaped' });
  const rest = ' 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 98765 10000000 300';
  assert.equal(exitedFromStat(`1234 (sidecar-execu) Z${rest}`), true);
  assert.equal(exitedFromStat(`1234 (a) b) X${rest}`), true);
  assert.equal(exitedFromStat(`1234 (node) S${rest}`), false);
  assert.equal(exitedFromStat(`1234 (node) R${rest}`), false);
});

test('never touched: the owner alive, unreadable, another pid namespace, our own, or labels incomplete', () => {
  assert.equal(ownerVerdict(labels, ME, probes({ 777: { kind: 'alive', startTime: '99000' } })).gone, false);
  assert.equal(ownerVerdict(labels, ME, probes({ 777: { kind: 'unknown', why: 'EACCES' } })).gone, false);
  const elsewhere = { ...labels, [OWNER_LABELS.pidNamespace]: 'pid:[4026532999]' };
  assert.match(ownerVerdict(elsewhere, ME, probes({})).why, /another pid namespace/);
  assert.equal(ownerVerdict(elsewhere, ME, probes({})).gone, false);
  const mine = ownerLabels({ executorId: 'x', frameworkId: 'y' }, ME);
  assert.equal(ownerVerdict(mine, ME, probes({})).gone, false);
  for (const key of Object.values(OWNER_LABELS).filter((k) => k !== OWNER_LABELS.executorId && k !== OWNER_LABELS.frameworkId)) {
    const partial = { ...labels };
    delete partial[key];
    assert.equal(ownerVerdict(partial, ME, probes({})).gone, false, `without ${key}`);
  }
  for (const pid of ['0', '-1', 'abc', '']) {
    assert.equal(ownerVerdict({ ...labels, [OWNER_LABELS.pid]: pid }, ME, probes({})).gone, false, `pid ${JSON.stringify(pid)}`);
  }
});

test('starttime is field 22 of /proc/<pid>/stat, whatever the command name holds', () => {
  const rest = 'S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 98765 10000000 300';
  assert.equal(startTimeFromStat(`1234 (node) ${rest}`), '98765');
  assert.equal(startTimeFromStat(`1234 (sidecar-executor 0123abcd (img:1) ) x) ${rest}`), '98765');
  assert.equal(startTimeFromStat('1234 (short) S 1'), undefined);
});

test("this process's own stat parses", async () => {
  const { readFileSync } = await import('node:fs');
  assert.match(startTimeFromStat(readFileSync('/proc/self/stat', 'utf8')) ?? '', /^\d+$/);
});
