// The orphan reaper on a fake engine: it stops exactly the containers whose owner is certainly
// gone, with KillTaskTimeout, logging each, and never throws (docs/faults.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError, type ListedContainer } from '../../src/docker/engine-api';
import { ownerLabels, type PidProbe, type ProcessIdentity } from '../../src/docker/owner-labels';
import { reapOrphans } from '../../src/executor/orphan-reaper';
import { ownIdentity } from '../../src/executor/own-identity';
import { memoryLogger } from '../../src/logging/logger';

const NS = 'pid:[4026531836]';
const ME: ProcessIdentity = { pid: 10, startTime: '500', pidNamespace: NS };
const container = (id: string, owner: ProcessIdentity): ListedContainer => ({
  id: id.repeat(64 / id.length), name: `mesos-${id}`, labels: ownerLabels({ executorId: `exec-${id}`, frameworkId: 'fw' }, owner),
});

class ListingEngine {
  readonly stopped: { id: string; timeoutSec: number }[] = [];
  listed: string[][] = [];
  constructor(readonly containers: ListedContainer[], readonly listFails?: Error) {}
  async listContainers(keys: string[]): Promise<ListedContainer[]> {
    this.listed.push(keys);
    if (this.listFails) throw this.listFails;
    return this.containers;
  }
  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    this.stopped.push({ id, timeoutSec });
    if (id.startsWith('e')) throw new EngineError('E_ENGINE_STATUS', 'stopping: the Docker engine answered 500', 500);
  }
}

test('stops the containers of dead owners only, with KillTaskTimeout, and logs each', async () => {
  const dead = container('a', { pid: 20, startTime: '100', pidNamespace: NS });
  const reused = container('b', { pid: 21, startTime: '100', pidNamespace: NS });
  const alive = container('c', { pid: 22, startTime: '100', pidNamespace: NS });
  const elsewhere = container('d', { pid: 20, startTime: '100', pidNamespace: 'pid:[4026532000]' });
  const engine = new ListingEngine([dead, reused, alive, elsewhere]);
  const logger = memoryLogger();
  const procs: Record<number, PidProbe> = { 21: { kind: 'alive', startTime: '900' }, 22: { kind: 'alive', startTime: '100' } };
  const count = await reapOrphans({ engine, me: ME, logger, killTaskTimeoutSec: 7, probe: (pid) => procs[pid] ?? { kind: 'none' } });
  assert.equal(count, 2);
  assert.deepEqual(engine.stopped, [{ id: dead.id, timeoutSec: 7 }, { id: reused.id, timeoutSec: 7 }]);
  assert.deepEqual(engine.listed, [['sidecar-executor.pid', 'sidecar-executor.pid-namespace']]);
  const warned = logger.lines.filter((l) => l.includes('Stopping an orphaned container: its executor is gone'));
  assert.equal(warned.length, 2);
  assert.ok(warned[0]!.includes('container=aaaaaaaaaaaa') && warned[0]!.includes('executor=exec-a') && warned[0]!.includes('framework=fw'));
  assert.equal(logger.lines.filter((l) => l.includes('Stopped an orphaned container')).length, 2);
});

test('a failing list or stop is logged, never thrown', async () => {
  const logger = memoryLogger();
  const down = new ListingEngine([], new EngineError('E_ENGINE_UNREACHABLE', 'the Docker engine is unreachable'));
  assert.equal(await reapOrphans({ engine: down, me: ME, logger, killTaskTimeoutSec: 5, probe: () => ({ kind: 'none' }) }), 0);
  assert.ok(logger.lines.some((l) => l.includes('Could not look for orphaned containers')));
  const refusing = new ListingEngine([container('e', { pid: 30, startTime: '1', pidNamespace: NS })]);
  assert.equal(await reapOrphans({ engine: refusing, me: ME, logger, killTaskTimeoutSec: 5, probe: () => ({ kind: 'none' }) }), 0);
  assert.ok(logger.lines.some((l) => l.includes('Could not stop an orphaned container') && l.includes('500')));
});

test("this process's identity comes from /proc", () => {
  const me = ownIdentity();
  assert.ok(me);
  assert.equal(me.pid, process.pid);
  assert.match(me.startTime, /^\d+$/);
  assert.match(me.pidNamespace, /^pid:\[\d+\]$/);
});
