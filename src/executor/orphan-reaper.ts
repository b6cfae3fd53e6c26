// Stops the containers whose executor is certainly gone (docs/faults.md), run once by an executor
// starting on the host: an agent that destroys an executor SIGKILLs its whole process group, so
// neither the executor nor the wrapper's trap can stop the container, which would run forever.
// Each stop is logged; a container whose owner may be alive is never touched (owner-labels.ts).
import { readFileSync } from 'node:fs';
import type { EngineApi } from '../docker/engine-api';
import { OWNER_LABELS, exitedFromStat, ownerVerdict, startTimeFromStat, type PidProbe, type ProcessIdentity } from '../docker/owner-labels';
import type { Logger } from '../logging/logger';

export interface ReaperOptions {
  engine: Pick<EngineApi, 'listContainers' | 'stopContainer'>;
  me: ProcessIdentity;
  logger: Logger;
  /** KillTaskTimeout: the orphan gets the same SIGTERM grace as any stopped task. */
  killTaskTimeoutSec: number;
  probe?: (pid: number) => PidProbe;
}

const LIST_TIMEOUT_MS = 10_000;

/** Resolves with how many orphans were stopped; never rejects (a reaper must not hurt the task). */
export async function reapOrphans(o: ReaperOptions): Promise<number> {
  const { engine, me, logger } = o;
  let listed;
  try {
    listed = await engine.listContainers([OWNER_LABELS.pid, OWNER_LABELS.pidNamespace], { timeoutMs: LIST_TIMEOUT_MS });
  } catch (err) {
    logger.warn('Could not look for orphaned containers', { error: (err as Error).message });
    return 0;
  }
  const probe = o.probe ?? probeProc;
  const orphans = listed.filter((c) => {
    const verdict = ownerVerdict(c.labels, me, probe);
    if (!verdict.gone) logger.debug('Leaving a container of another executor alone', { container: c.id.slice(0, 12), why: verdict.why });
    else {
      logger.warn('Stopping an orphaned container: its executor is gone', {
        container: c.id.slice(0, 12), name: c.name, executor: c.labels[OWNER_LABELS.executorId], framework: c.labels[OWNER_LABELS.frameworkId], why: verdict.why,
      });
    }
    return verdict.gone;
  });
  const stopped = await Promise.all(orphans.map(async (c) => {
    try {
      await engine.stopContainer(c.id, o.killTaskTimeoutSec);
      logger.info('Stopped an orphaned container', { container: c.id.slice(0, 12), name: c.name });
      return true;
    } catch (err) {
      logger.error('Could not stop an orphaned container', { container: c.id.slice(0, 12), error: (err as Error).message });
      return false;
    }
  }));
  const count = stopped.filter(Boolean).length;
  logger.debug('Looked for orphaned containers', { listed: listed.length, orphans: orphans.length, stopped: count });
  return count;
}

function probeProc(pid: number): PidProbe {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTime = startTimeFromStat(stat);
    if (startTime === undefined) return { kind: 'unknown', why: 'unreadable stat' };
    return exitedFromStat(stat) ? { kind: 'exited', startTime } : { kind: 'alive', startTime };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? { kind: 'none' } : { kind: 'unknown', why: code ?? (err as Error).message };
  }
}
