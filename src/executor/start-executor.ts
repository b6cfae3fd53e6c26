// Wires one executor: the agent connection (HTTP, or local mode's in-process agent), the Docker
// engine, the task services and the lifecycle; the crash handler; the orphan clean-up.
import { availableParallelism } from 'node:os';
import { systemClock } from '../clock';
import type { MesosEnv } from '../config/mesos-env';
import type { Settings } from '../config/settings';
import type { DockerConnection } from '../docker/docker-host';
import { DockerEngineClient } from '../docker/engine-client';
import { ownerLabels } from '../docker/owner-labels';
import type { Logger } from '../logging/logger';
import type { AgentApi } from '../mesos/agent-api';
import { ExecutorDriver } from '../mesos/driver';
import { Executor } from './executor';
import type { TaskOutput } from './failure-logs';
import { reapOrphans } from './orphan-reaper';
import { ownIdentity } from './own-identity';
import { TaskRunner } from './task-runner';
import type { LogRelay } from './task-services';
import { createTaskServices } from './wire-services';

/** Without checkpointing: how long the terminal update's ACKNOWLEDGED is waited for. */
const ACK_TIMEOUT_MS = 5000;
/** When an executor looks for orphaned containers, after starting. */
const REAPER_DELAY_MS = 5000;
/** A crash stops the container first, but never waits longer than this to exit. */
const CRASH_EXIT_MS = 15_000;

export interface ExecutorStart {
  mesos: MesosEnv;
  settings: Settings;
  docker: DockerConnection;
  agent: AgentApi;
  logger: Logger;
  /** Where a failed container's logs are copied: the sandbox's stdout and stderr. */
  output: TaskOutput;
  /** Local mode: shows the container's output as it runs. */
  followToConsole?: (engine: DockerEngineClient, containerId: string, logger: Logger) => LogRelay;
  exit(code: number): void;
}

export function startExecutor(o: ExecutorStart): Executor {
  const { mesos, settings, logger } = o;
  const engine = new DockerEngineClient(o.docker.target);
  const ids = { executorId: mesos.executorId, frameworkId: mesos.frameworkId };
  const driver = new ExecutorDriver(o.agent, ids, {
    checkpoint: mesos.checkpoint, recoveryTimeoutMs: mesos.recoveryTimeoutMs, subscriptionBackoffMaxMs: mesos.subscriptionBackoffMaxMs,
  }, logger);
  const follow = o.followToConsole;
  const services = createTaskServices({
    settings, mesos, env: process.env, engine, logger, clock: systemClock, stdout: o.output.stdout,
    followToConsole: follow && ((containerId, taskLogger) => follow(engine, containerId, taskLogger)),
  });
  const me = ownIdentity();
  const executor: Executor = new Executor({
    driver, logger, shutdownGracePeriodMs: mesos.shutdownGracePeriodMs, ackTimeoutMs: ACK_TIMEOUT_MS, exit: o.exit,
    checkpoint: mesos.checkpoint, recoveryTimeoutMs: mesos.recoveryTimeoutMs,
    createRunner: (task) => new TaskRunner(task, {
      engine, services, settings, hostCpus: availableParallelism(), taskHost: mesos.taskHost, logger, clock: systemClock,
      sendStatus: (state, fields) => executor.sendStatus(task.task_id.value, state, fields),
      killingCapable: () => executor.killingCapable(),
      setTitle: (title) => { process.title = title; },
      output: o.output,
      ownerLabels: me && ownerLabels(ids, me),
    }),
  });
  // A crash must not leave the container running. Logging cannot throw (fd-writer.ts), and a
  // second crash while stopping does not start another stop: no loop, and a bounded exit.
  let crashed = false;
  process.on('uncaughtException', (err) => {
    if (crashed) return;
    crashed = true;
    logger.error('Executor crashed', { error: err.stack ?? err.message });
    setTimeout(() => process.exit(1), CRASH_EXIT_MS).unref();
    void (executor.runner?.stopNow() ?? Promise.resolve()).finally(() => process.exit(1));
  });
  void driver.run(executor.handlers());
  // Containers of executors that died with their process group, looked for once the launch is
  // over: not on its path, nor adding to its peak memory (BENCHMARKS.md).
  if (me) {
    setTimeout(() => void reapOrphans({ engine, me, logger, killTaskTimeoutSec: settings.killTaskTimeoutSec }), REAPER_DELAY_MS).unref();
  }
  return executor;
}
