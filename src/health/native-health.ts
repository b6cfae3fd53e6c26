// The entry to a task's own health check (docs/health-checks.md), loaded only for a task that has
// one: the check is read from the TaskInfo at launch, and once the container runs, its probe is
// built for the container's network and handed to the monitor.
import type { Clock } from '../clock';
import type { ContainerAddress, EngineApi } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import type { HealthCheck } from '../mesos/types';
import type { CheckTarget, NativeHealthCheck } from '../executor/task-services';
import { HealthCheckMonitor, type HealthProbe } from './check-monitor';
import { CommandProbe } from './command-probe';
import { healthCheckSpec, type AddressFamily, type CheckProbeSpec } from './health-check-spec';
import { HttpProbe, TcpProbe, type CheckHost } from './network-probes';

/** A bound on looking the container's address up again (the Mesos Docker executor's inspect timeout). */
const INSPECT_MS = 5000;

export interface NativeHealthDeps {
  engine: Pick<EngineApi, 'inspectContainer' | 'createExec' | 'startExec' | 'inspectExec'>;
  clock: Clock;
}

/** Throws TaskInvalidError for a check the master would have refused. */
export function prepareHealthCheck(check: HealthCheck, deps: NativeHealthDeps): NativeHealthCheck {
  const spec = healthCheckSpec(check);
  return {
    watch: (target, logger, callbacks) => {
      const monitor = new HealthCheckMonitor({ probe: probeFor(spec.probe, target, logger, deps), timing: spec.timing, clock: deps.clock, logger }, callbacks);
      monitor.start();
      return monitor;
    },
  };
}

function probeFor(spec: CheckProbeSpec, target: CheckTarget, logger: Logger, deps: NativeHealthDeps): HealthProbe {
  switch (spec.kind) {
    case 'HTTP': return new HttpProbe(spec, containerHost(target, deps));
    case 'TCP': return new TcpProbe(spec, containerHost(target, deps));
    case 'COMMAND': return new CommandProbe(spec, { engine: deps.engine, containerId: target.containerId, clock: deps.clock, logger });
  }
}

/**
 * Where the task listens, as Mesos reaches it from inside the task's network namespace: the
 * loopback with host networking, else the container's own address (found again when the
 * inspect behind TASK_RUNNING had none).
 */
export function containerHost(target: CheckTarget, deps: Pick<NativeHealthDeps, 'engine'>): CheckHost {
  let addresses: ContainerAddress[] = target.addresses;
  return {
    resolve: async (family: AddressFamily, signal: AbortSignal): Promise<string> => {
      if (target.networkMode === 'host') return family === 'IPv6' ? '::1' : '127.0.0.1';
      if (target.networkMode === 'none') throw new Error('has nothing to connect to: the container has no network (NONE)');
      let found = addresses.find((a) => a.family === family);
      if (found === undefined) {
        addresses = (await deps.engine.inspectContainer(target.containerId, { timeoutMs: INSPECT_MS, signal })).addresses ?? [];
        found = addresses.find((a) => a.family === family);
      }
      if (found === undefined) throw new Error(`has nothing to connect to: the container has no ${family} address on network ${target.networkMode}`);
      return found.ip;
    },
  };
}
