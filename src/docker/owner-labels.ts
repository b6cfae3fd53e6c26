// Labels naming the executor process that owns a container, and the verdict on whether that
// owner is certainly gone (docs/faults.md). An agent destroying an executor SIGKILLs its whole
// process group, wrapper included, so no trap stops the container; the next executor on the
// host finds it by these labels. A pid alone is not enough (pids are reused), nor is a pid in
// another pid namespace comparable with ours: the owner is gone only when, in our namespace, no
// process has its pid, or the one that has it started at another time. Pure.

export const OWNER_LABELS = {
  executorId: 'sidecar-executor.executor-id',
  frameworkId: 'sidecar-executor.framework-id',
  pid: 'sidecar-executor.pid',
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot, unique with the pid. */
  startTime: 'sidecar-executor.pid-start-time',
  /** readlink /proc/self/ns/pid, e.g. `pid:[4026531836]`. */
  pidNamespace: 'sidecar-executor.pid-namespace',
} as const;

/** Who a process is, as far as telling it from a later one with the same pid goes. */
export interface ProcessIdentity { pid: number; startTime: string; pidNamespace: string }

/**
 * What /proc says of a pid: its start time, no such process, exited but not yet reaped by its
 * parent (a zombie keeps its /proc entry and start time), or unreadable (assume alive).
 */
export type PidProbe = { kind: 'alive'; startTime: string } | { kind: 'none' } | { kind: 'exited'; startTime: string } | { kind: 'unknown'; why: string };

export type OwnerVerdict = { gone: true; why: string } | { gone: false; why: string };

export function ownerLabels(ids: { executorId: string; frameworkId: string }, owner: ProcessIdentity): Record<string, string> {
  return {
    [OWNER_LABELS.executorId]: ids.executorId,
    [OWNER_LABELS.frameworkId]: ids.frameworkId,
    [OWNER_LABELS.pid]: String(owner.pid),
    [OWNER_LABELS.startTime]: owner.startTime,
    [OWNER_LABELS.pidNamespace]: owner.pidNamespace,
  };
}

/** The starttime field of a /proc/<pid>/stat line; the command name may hold spaces and parens. */
export function startTimeFromStat(stat: string): string | undefined {
  // After the name, index 0 is field 3 (state), so field 22 is at index 19.
  const value = fieldsAfterName(stat)[19];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/** True for a process that has exited: a zombie (Z) or dead (X, x) one, per proc(5). */
export function exitedFromStat(stat: string): boolean {
  return /^[ZXx]$/.test(fieldsAfterName(stat)[0] ?? '');
}

function fieldsAfterName(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Whether the container's owner is certainly gone; anything less certain leaves it alone. */
export function ownerVerdict(labels: Readonly<Record<string, string>>, me: ProcessIdentity, probe: (pid: number) => PidProbe): OwnerVerdict {
  const pidText = labels[OWNER_LABELS.pid] ?? '';
  const startTime = labels[OWNER_LABELS.startTime] ?? '';
  const namespace = labels[OWNER_LABELS.pidNamespace] ?? '';
  if (!/^[1-9]\d*$/.test(pidText) || !/^\d+$/.test(startTime) || namespace === '') return { gone: false, why: 'its owner labels are incomplete' };
  if (namespace !== me.pidNamespace) return { gone: false, why: `its owner runs in another pid namespace (${namespace})` };
  const pid = Number(pidText);
  if (pid === me.pid && startTime === me.startTime) return { gone: false, why: 'it is this executor\'s own' };
  const found = probe(pid);
  if (found.kind === 'none') return { gone: true, why: `no process has its owner's pid ${pid}` };
  if (found.kind === 'unknown') return { gone: false, why: `process ${pid} cannot be checked (${found.why})` };
  if (found.kind === 'exited' && found.startTime === startTime) return { gone: true, why: `its owner (pid ${pid}) exited and was not reaped` };
  if (found.startTime !== startTime) return { gone: true, why: `pid ${pid} now belongs to a process that started later` };
  return { gone: false, why: `its owner (pid ${pid}) is alive` };
}
