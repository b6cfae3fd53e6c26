// Builds the real collaborators of a task's lifecycle from the settings: Sidecar health and
// draining, SIDECAR_SEEDS, Vault, registry credentials, the syslog relay. The lifecycle only
// sees the TaskServices interface.
import type { Clock } from '../clock';
import type { MesosEnv } from '../config/mesos-env';
import type { Settings } from '../config/settings';
import type { EngineApi } from '../docker/engine-api';
import { loadRegistryAuth } from '../docker/registry-auth';
import type { Logger } from '../log/logger';
import { SyslogRelay } from '../logs/syslog-relay';
import { SidecarHealthMonitor } from '../sidecar/health-monitor';
import { SidecarClient } from '../sidecar/sidecar-client';
import { fetchSidecarSeeds } from '../sidecar/sidecar-seeds';
import { loadVaultConfig } from '../vault/load-vault-config';
import { resolveVaultEnv } from '../vault/resolve-vault-env';
import { VaultClient } from '../vault/vault-client';
import { vaultConfigFromEnv } from '../vault/vault-config';
import type { TaskServices } from './task-services';

export interface ServiceInputs {
  settings: Settings;
  mesos: MesosEnv;
  env: Readonly<Record<string, string | undefined>>;
  engine: EngineApi;
  logger: Logger;
  clock: Clock;
}

export function createTaskServices({ settings, mesos, env, engine, logger, clock }: ServiceInputs): TaskServices {
  let sidecar: SidecarClient | undefined;
  const sidecarClient = (): SidecarClient => (sidecar ??= new SidecarClient({
    sidecarUrl: settings.sidecarUrl, httpTimeoutMs: settings.httpTimeoutMs, retryCount: settings.sidecarRetryCount,
    retryDelayMs: settings.sidecarRetryDelayMs, clock, logger,
  }));
  return {
    sidecarSeeds: () => fetchSidecarSeeds({ agentEndpoint: mesos.agentEndpoint, masterPort: settings.mesosMasterPort, timeoutMs: settings.httpTimeoutMs, logger }),
    // The Vault client is built only when some value references Vault (CONTRACT §8).
    resolveSecrets: (containerEnv) => resolveVaultEnv(containerEnv, async () => {
      const config = await loadVaultConfig(vaultConfigFromEnv(env));
      return new VaultClient(config, { logger, clock });
    }, logger),
    registryAuth: () => {
      const auth = loadRegistryAuth({ DOCKER_CONFIG: env.DOCKER_CONFIG, HOME: env.HOME }, settings.dockerRepository);
      logger.redact(auth?.password);
      logger.redact(auth?.auth);
      logger.redact(auth?.identitytoken);
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
    drain: (serviceId) => sidecarClient().drain(serviceId),
    startLogRelay: (containerId, labels) => {
      if (!settings.relaySyslog && !settings.relaySyslogStartupOnly) return undefined;
      const relay = new SyslogRelay({ engine, containerId, labels, settings, logger, clock });
      relay.start();
      return relay;
    },
  };
}
