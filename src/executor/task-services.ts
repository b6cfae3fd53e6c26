// The optional collaborators of a task's lifecycle, behind small role interfaces so the
// lifecycle is tested with fakes and main.ts wires the real Sidecar, Vault and syslog pieces.
import type { ContainerAddress, RegistryAuth } from '../docker/engine-api';
import type { Logger } from '../logging/logger';
import type { TaskInfo } from '../mesos/types';

export interface HealthCallbacks {
  /** The verdict changed (reported as a `healthy` TASK_RUNNING update, docs/health-checks.md). */
  onHealthChanged(healthy: boolean, detail: string): void;
  /** Too many failed checks in a row (Sidecar: MaxFails+1; native: consecutive_failures). */
  onUnhealthy(detail: string): void;
}

export interface Stoppable { stop(): void | Promise<void> }

/** The running container a task's own health check reaches (docs/health-checks.md). */
export interface CheckTarget {
  containerId: string;
  /** Docker's NetworkMode: `host`, `none`, `default` (BRIDGE) or a USER network's name. */
  networkMode: string;
  /** Its addresses when known (from the inspect behind TASK_RUNNING); looked up again when not. */
  addresses: ContainerAddress[];
}

/** TaskInfo.health_check, checked and ready to run once the container runs. */
export interface NativeHealthCheck {
  watch(target: CheckTarget, logger: Logger, callbacks: HealthCallbacks): Stoppable;
}

export interface LogRelay extends Stoppable {
  /** Resolves once the relay has ended: its log stream ended (the container exited) or stop(). */
  readonly done: Promise<void>;
}

/** AWS credentials of the executor's AwsRole, from Vault's AWS secrets engine (docs/vault-and-aws.md). */
export interface AwsCredentialsGrant {
  /** AWS_ACCESS_KEY_ID=..., AWS_SECRET_ACCESS_KEY=... (and AWS_SESSION_TOKEN for STS credentials). */
  readonly env: readonly string[];
  /** Clock time (ms) by which the task must be stopped: the lease's end less a margin. */
  readonly expiresAt: number;
  /** Revokes the lease and the token that got it; never throws, logs failures without secrets. */
  release(): Promise<void>;
}

export interface TaskServices {
  /** SIDECAR_SEEDS hostnames; undefined after logging when they cannot be had (docs/health-checks.md). */
  sidecarSeeds(): Promise<string[] | undefined>;
  /** Replaces vault:// values; throws an error naming the variable and path (docs/vault-and-aws.md). */
  resolveSecrets(env: string[]): Promise<string[]>;
  /**
   * Credentials for the executor's AwsRole; undefined when AwsRole is empty. Throws an error
   * saying what failed (the caller names the role); nothing is left granted when it throws.
   */
  awsCredentials(): Promise<AwsCredentialsGrant | undefined>;
  /** Credentials for pulls, from the Docker config file (docs/docker-connection.md). */
  registryAuth(): RegistryAuth | undefined;
  watchHealth(serviceId: string, callbacks: HealthCallbacks): Stoppable;
  /**
   * The task's own health check (docs/health-checks.md), undefined when it has none; its code is
   * loaded only then. Throws TaskInvalidError for a check that cannot run.
   */
  nativeHealthCheck(task: TaskInfo): NativeHealthCheck | undefined;
  /** Asks Sidecar to drain the service; true when Sidecar accepted (docs/health-checks.md). */
  drain(serviceId: string): Promise<boolean>;
  /** Relays the container's output to syslog (docs/log-relay.md); undefined when relaying is off. */
  /** `logger` carries the task's fields (task, container) into the relay's lines. */
  startLogRelay(containerId: string, labels: Record<string, string>, logger: Logger): LogRelay | undefined;
}
