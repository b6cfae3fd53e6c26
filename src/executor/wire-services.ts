// Builds the real collaborators of a task's lifecycle from the settings: Sidecar health and
// draining, SIDECAR_SEEDS, Vault, AWS credentials, registry credentials, the syslog relay. The
// lifecycle only sees the TaskServices interface.
import type { Clock } from '../clock';
import type { MesosEnv } from '../config/mesos-env';
import type { Settings } from '../config/settings';
import type { EngineApi } from '../docker/engine-api';
import { loadRegistryAuth } from '../docker/registry-auth';
import type { OutputStream } from '../logging/fd-writer';
import type { Logger } from '../logging/logger';
import { SidecarHealthMonitor } from '../sidecar/health-monitor';
import { SidecarClient } from '../sidecar/sidecar-client';
import { fetchSidecarSeeds } from '../sidecar/sidecar-seeds';
import { findVaultRefs } from '../vault/vault-refs';
import type { LogRelay, TaskServices } from './task-services';

// Vault, the syslog relay and native health checks are loaded on first use: most tasks need
// none, and their modules (fs/promises, dgram, dns, crypto) would cost every executor memory
// (BENCHMARKS.md).
export interface ServiceInputs {
  settings: Settings;
  mesos: MesosEnv;
  env: Readonly<Record<string, string | undefined>>;
  engine: EngineApi;
  logger: Logger;
  clock: Clock;
  /** The executor's stdout, for ContainerLogsStdout copies of relayed lines. */
  stdout: OutputStream;
  /** Local mode: the container's output shown as it runs, beside any syslog relay. */
  followToConsole?: (containerId: string, logger: Logger) => LogRelay;
}

export function createTaskServices({ settings, mesos, env, engine, logger, clock, stdout, followToConsole }: ServiceInputs): TaskServices {
  let sidecar: SidecarClient | undefined;
  const sidecarClient = (): SidecarClient => (sidecar ??= new SidecarClient({
    sidecarUrl: settings.sidecarUrl, httpTimeoutMs: settings.httpTimeoutMs, retryCount: settings.sidecarRetryCount,
    retryDelayMs: settings.sidecarRetryDelayMs, clock, logger,
  }));
  return {
    sidecarSeeds: () => fetchSidecarSeeds({ agentEndpoint: mesos.agentEndpoint, masterPort: settings.mesosMasterPort, timeoutMs: settings.httpTimeoutMs, logger }),
    // The Vault client is built only when some value references Vault (docs/vault-and-aws.md).
    resolveSecrets: async (containerEnv) => {
      if (findVaultRefs(containerEnv).length === 0) return containerEnv;
      const { resolveVaultEnv } = require('../vault/resolve-vault-env') as typeof import('../vault/resolve-vault-env');
      return resolveVaultEnv(containerEnv, async () => {
        const { loadVaultConfig } = require('../vault/load-vault-config') as typeof import('../vault/load-vault-config');
        const { vaultConfigFromEnv } = require('../vault/vault-config') as typeof import('../vault/vault-config');
        const { VaultClient } = require('../vault/vault-client') as typeof import('../vault/vault-client');
        return new VaultClient(await loadVaultConfig(vaultConfigFromEnv(env)), { logger, clock });
      }, logger);
    },
    // Loaded only with an AwsRole, as Vault above.
    awsCredentials: async () => {
      if (settings.awsRole === '') return undefined;
      const { loadVaultConfig } = require('../vault/load-vault-config') as typeof import('../vault/load-vault-config');
      const { vaultConfigFromEnv } = require('../vault/vault-config') as typeof import('../vault/vault-config');
      const { grantAwsCredentials } = require('../vault/aws-credentials') as typeof import('../vault/aws-credentials');
      const config = await loadVaultConfig(vaultConfigFromEnv(env));
      return grantAwsCredentials({ role: settings.awsRole, ttlSec: Math.ceil(settings.awsRoleTtlMs / 1000), config, logger, clock });
    },
    registryAuth: () => {
      const repository = settings.dockerRepository;
      const found = loadRegistryAuth({ DOCKER_CONFIG: env.DOCKER_CONFIG, HOME: env.HOME }, repository);
      const auth = found.auth;
      logger.redact(auth?.password);
      logger.redact(auth?.auth);
      logger.redact(auth?.identitytoken);
      for (const { file, reason } of found.skipped) logger.warn('Docker config file skipped', { file, reason });
      // The Go original's words, plus where the credentials came from (the entry is a registry name).
      if (auth) logger.info(`Found Docker auth configuration for '${repository}'`, { file: found.file, entry: found.entry });
      else logger.warn(`No docker auth match for repository '${repository}'... proceeding anyway`, { searched: found.searched.join(',') });
      return auth;
    },
    watchHealth: (serviceId, callbacks) => {
      const monitor = new SidecarHealthMonitor({
        client: sidecarClient(), clock, logger, hostname: mesos.taskHost ?? '', serviceId,
        backoffMs: settings.sidecarBackoffMs, pollIntervalMs: settings.sidecarPollIntervalMs, maxFails: settings.sidecarMaxFails,
      }, callbacks);
      monitor.start();
      return monitor;
    },
    // Loaded only for a task with a health_check: most tasks rely on Sidecar alone.
    nativeHealthCheck: (task) => {
      if (task.health_check === undefined || task.health_check === null) return undefined;
      const { prepareHealthCheck } = require('../health/native-health') as typeof import('../health/native-health');
      return prepareHealthCheck(task.health_check, { engine, clock });
    },
    drain: (serviceId) => sidecarClient().drain(serviceId),
    startLogRelay: (containerId, labels, taskLogger) => {
      const relays: LogRelay[] = [];
      if (followToConsole) relays.push(followToConsole(containerId, taskLogger));
      if (settings.relaySyslog || settings.relaySyslogStartupOnly) {
        const { SyslogRelay } = require('../relay/syslog-relay') as typeof import('../relay/syslog-relay');
        const relay = new SyslogRelay({ engine, containerId, labels, settings, logger: taskLogger, clock, stdout });
        relay.start();
        relays.push(relay);
      }
      if (relays.length <= 1) return relays[0];
      return { done: Promise.all(relays.map((r) => r.done)).then(() => undefined), stop: async () => { await Promise.all(relays.map((r) => r.stop())); } };
    },
  };
}
