// What every command of the executor does before its work: read and check the settings and the
// Docker connection (a bad value is one line on stderr and exit 1, never a stack trace), and log
// the start-up banners, in the Go original's words.
import { hostname } from 'node:os';
import { SettingsError, loadSettings, type Settings } from '../config/settings';
import { environmentLines, isSecretVariable, settingsLines } from '../config/startup-log';
import { DockerEnvError, dockerConnectionFromEnv, type DockerConnection } from '../docker/docker-host';
import { processOutput } from '../logging/fd-writer';
import type { Logger } from '../logging/logger';

declare const __VERSION__: string;
/** `<version> (<git short commit>)`, set by scripts/build.mjs. */
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

// Never process.stdout/stderr: a sandbox file on a full disk must not crash us (fd-writer.ts).
export const output = processOutput();

/** A user error: one clear line, exit 1. */
export function fail(message: string): never {
  process.stderr.write(`sidecar-executor: ${message}\n`);
  process.exit(1);
}

export function loadConfig(env: NodeJS.ProcessEnv): Settings {
  try {
    return loadSettings(env, hostname());
  } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
}

/** DOCKER_HOST and the TLS variables; a bad value ends the executor with one line. */
export function loadDocker(env: NodeJS.ProcessEnv = process.env): DockerConnection {
  try {
    return dockerConnectionFromEnv(env);
  } catch (err) {
    if (err instanceof DockerEnvError) fail(err.message);
    throw err;
  }
}

/** Registers the environment's secrets with the logger; with `banners`, logs the Go original's. */
export function startupLog(logger: Logger, settings: Settings, env: NodeJS.ProcessEnv, banners = true): void {
  // VAULT_USERNAME is kept out of the log by name (environmentLines), not redacted: a common word
  // (`executor`, `mesos`) would blank out image names and ids in every line (as vault-client.ts).
  for (const name of Object.keys(env)) if (isSecretVariable(name) && name !== 'VAULT_USERNAME') logger.redact(env[name]);
  if (!banners) return;
  // The node flags bound memory (scripts/build.mjs): a run without them is worth spotting.
  logger.info('Starting Sidecar Executor', { version: VERSION, node: process.version, nodeFlags: process.execArgv.join(' ') });
  logger.info('Executor Config -----------------------');
  for (const line of settingsLines(settings)) logger.info(line);
  logger.info('Environment ---------------------------');
  for (const line of environmentLines(env)) logger.info(line);
  logger.info('---------------------------------------');
}

export function logDocker(logger: Logger, docker: DockerConnection): void {
  logger.info('Docker engine', docker.fields);
  for (const warning of docker.warnings) logger.warn(warning);
}
