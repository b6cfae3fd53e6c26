// cgroup limits from the task's resources (docs/containers.md), applied only when the operator
// asked. As in the Go original's setCpuLimit, UseCpuShares only chooses *how* the CPU limit is
// enforced: without ForceCpuLimit no CPU setting is made at all, with both it is CpuShares
// instead of the CFS quota.
import type { TaskInfo } from '../mesos/types';

export interface LimitSettings {
  forceCpuLimit: boolean;
  forceMemoryLimit: boolean;
  useCpuShares: boolean;
  /** The host's CPU count (os.cpus().length at the caller), for CpuShares. */
  hostCpus: number;
}

export interface Limits { CpuPeriod?: number; CpuQuota?: number; CpuShares?: number; Memory?: number }

/** 50 ms, the Go original's period: a steadier latency at the expense of burst capacity. */
export const CPU_PERIOD_US = 50_000;
/** Docker refuses a CFS quota under 1 ms ("CPU cfs quota can not be less than 1ms"). */
const MIN_CPU_QUOTA_US = 1_000;
/** The kernel's floor; 0 would mean "unset" to Docker and give the container a full 1024. */
const MIN_CPU_SHARES = 2;
const MIB = 1024 * 1024;

/**
 * The total of a scalar resource. Mesos may hand a task the same resource in several pieces
 * (one per role or reservation), and the task owns their sum; the Go original read only the
 * first piece and so could under-limit the task.
 */
export function scalarResource(task: TaskInfo, name: string): number | undefined {
  const resources: unknown = task.resources;
  if (!Array.isArray(resources)) return undefined;
  let total: number | undefined;
  for (const resource of resources as unknown[]) {
    if (typeof resource !== 'object' || resource === null) continue;
    const { name: n, scalar } = resource as { name?: unknown; scalar?: { value?: unknown } };
    const value = scalar?.value;
    if (n === name && typeof value === 'number' && Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

export function limitsForTask(task: TaskInfo, settings: LimitSettings): { limits: Limits; warnings: string[] } {
  const limits: Limits = {};
  const warnings: string[] = [];
  const cpus = scalarResource(task, 'cpus');
  if (settings.forceCpuLimit && cpus !== undefined) {
    if (cpus <= 0) {
      warnings.push(`the task's cpus resource is ${cpus}; no CPU limit is set`);
    } else if (settings.useCpuShares) {
      if (!(settings.hostCpus > 0)) warnings.push(`the host's CPU count is unknown (${settings.hostCpus}); CpuShares assumes the task may use all of it`);
      let multiplier = cpus / settings.hostCpus;
      if (!(multiplier <= 1)) {
        if (settings.hostCpus > 0) warnings.push(`the task asks for ${cpus} cpus but the host has ${settings.hostCpus}; CpuShares capped at 1024`);
        multiplier = 1;
      }
      limits.CpuShares = Math.floor(1024 * multiplier);
      if (limits.CpuShares < MIN_CPU_SHARES) {
        warnings.push(`CpuShares for ${cpus} cpus on ${settings.hostCpus} host CPUs rounds to ${limits.CpuShares}; raised to ${MIN_CPU_SHARES}`);
        limits.CpuShares = MIN_CPU_SHARES;
      }
    } else {
      limits.CpuPeriod = CPU_PERIOD_US;
      limits.CpuQuota = Math.floor(cpus * CPU_PERIOD_US);
      if (limits.CpuQuota < MIN_CPU_QUOTA_US) {
        warnings.push(`CpuQuota for ${cpus} cpus is ${limits.CpuQuota}us, below Docker's 1ms minimum; raised to ${MIN_CPU_QUOTA_US}us`);
        limits.CpuQuota = MIN_CPU_QUOTA_US;
      }
    }
  }
  const mem = scalarResource(task, 'mem');
  if (settings.forceMemoryLimit && mem !== undefined) {
    if (mem <= 0) warnings.push(`the task's mem resource is ${mem}; no memory limit is set`);
    else limits.Memory = Math.floor(mem * MIB);
  }
  return { limits, warnings };
}
