// The launch steps between a valid spec and a created container (docs/status-updates.md): Vault
// secrets, the image, AwsRole credentials, the create. Each step is tried only while the task
// has not been asked to stop; a failure names the step it failed at, once.
import type { Clock } from '../clock';
import type { ContainerSpec } from '../docker/container-spec';
import type { EngineApi, EngineError } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import { pullWithRetries } from './image-pull';
import type { TaskAwsCredentials } from './task-aws-credentials';
import type { TaskServices } from './task-services';

export interface LaunchSteps {
  engine: EngineApi;
  services: TaskServices;
  logger: Logger;
  clock: Clock;
  aws: TaskAwsCredentials;
  awsRole: string;
  /** Called when the AwsRole lease nears its end: the task is to be replaced. */
  onAwsLeaseEnding(): void;
  ownerLabels: Record<string, string> | undefined;
}

export type LaunchOutcome = { kind: 'created'; id: string } | { kind: 'stopped' } | { kind: 'failed'; message: string };

/** Runs the steps up to a created container; `stopped()` is asked before each. */
export async function createTaskContainer(spec: ContainerSpec, steps: LaunchSteps, stopped: () => boolean): Promise<LaunchOutcome> {
  const { engine, services, logger } = steps;
  let step = 'Resolving Vault secrets';
  try {
    const env = await services.resolveSecrets(spec.body.Env);
    if (stopped()) return { kind: 'stopped' };
    step = `Pulling image ${spec.image}`;
    if (spec.forcePull || !(await engine.imageExists(spec.image))) {
      await pullWithRetries(engine, spec.image, services.registryAuth(), logger, steps.clock);
    } else {
      logger.info('Re-using existing image... already present', { image: spec.image });
    }
    if (stopped()) return { kind: 'stopped' };
    // AwsRole: got after the pull, so none of the lease is spent on it.
    step = `Getting AWS credentials for role ${steps.awsRole}`;
    const launchEnv = await steps.aws.addTo(env, steps.onAwsLeaseEnding);
    if (stopped()) return { kind: 'stopped' };
    step = 'Creating the container';
    return { kind: 'created', id: await createReplacing(engine, spec, { ...spec.body, Env: launchEnv, Labels: { ...spec.body.Labels, ...steps.ownerLabels } }, logger) };
  } catch (err) {
    return { kind: 'failed', message: launchFailure(step, err as Error) };
  }
}

/** Starts it; one that fails to start is removed, so nothing is left behind. */
export async function startTaskContainer(engine: EngineApi, id: string, logger: Logger): Promise<{ ok: true } | { ok: false; message: string }> {
  logger.info(`Starting container with ID ${id.slice(0, 12)}`);
  try {
    await engine.startContainer(id);
    return { ok: true };
  } catch (err) {
    await engine.removeContainer(id).catch((e: Error) => logger.error('Could not remove the container that failed to start', { error: e.message }));
    return { ok: false, message: launchFailure('Starting the container', err as Error) };
  }
}

/**
 * Task ids are unique in Mesos, so a container already bearing the name is a finished earlier
 * run of the same task id (local mode re-runs, a retried launch): an exited one is replaced, a
 * running one is never touched.
 */
async function createReplacing(engine: EngineApi, spec: ContainerSpec, body: ContainerSpec['body'], logger: Logger): Promise<string> {
  try {
    return await engine.createContainer(spec.name, body);
  } catch (err) {
    if ((err as EngineError).status !== 409) throw err;
    const existing = await engine.inspectContainer(spec.name);
    if (existing.running) throw new Error(`a container named ${spec.name} is already running for this task id`);
    logger.warn('Replacing the exited container of an earlier run of this task id', { name: spec.name });
    await engine.removeContainer(existing.id);
    return engine.createContainer(spec.name, body);
  }
}

/** "<step> failed: <why>", without repeating the step when the error already names it. */
function launchFailure(step: string, err: Error): string {
  const detail = err.message;
  if (!detail.toLowerCase().startsWith(`${step.toLowerCase()} failed`)) return `${step} failed: ${detail}`;
  return detail.charAt(0).toUpperCase() + detail.slice(1);
}
