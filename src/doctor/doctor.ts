// `sidecar-executor doctor`: what would go wrong on this agent before a task finds out. Run with
// the executor's environment (EXECUTOR_* settings, DOCKER_*, VAULT_*, TASK_HOST), it checks the
// settings, node, the Docker engine, registry credentials, Sidecar, Vault and the syslog address,
// and prints one line each: `ok`, `warn` or `FAIL`, the check, what it found. Any FAIL makes the
// exit code 1. Network checks run at once, each bounded, so the whole answers within seconds
// even when everything hangs. Loaded only for this command (main.ts): executors never pay for it.
import { hostname } from 'node:os';
import { isSecretVariable } from '../config/startup-log';
import { checkDocker } from './docker-check';
import { fail, formatFinding, type Finding } from './findings';
import { checkNode, checkRegistry, checkSettings, checkSyslog, type ShebangFlags } from './local-checks';
import { checkSidecar } from './sidecar-check';
import { checkVault } from './vault-check';

declare const __SHEBANG__: ShebangFlags;
/** The flags scripts/build.mjs put in the bundle's shebang; unknown outside the bundle (tests). */
const SHEBANG: ShebangFlags | undefined = typeof __SHEBANG__ === 'object' ? __SHEBANG__ : undefined;

/** Secrets that are in the environment: no line may carry them, whatever a check says. */
function environmentSecrets(env: NodeJS.ProcessEnv): Set<string> {
  const secrets = new Set<string>();
  // Not VAULT_USERNAME: a common word would blank out ordinary words (as startup-log.ts); no line names it.
  for (const [name, value] of Object.entries(env)) {
    if (isSecretVariable(name) && name !== 'VAULT_USERNAME' && value !== undefined && value.length >= 4) secrets.add(value);
  }
  return secrets;
}

function scrub(line: string, secrets: Set<string>): string {
  let out = line;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('[REDACTED]');
  return out;
}

/** A check that throws (a bug) is a FAIL line of its own: the other checks still report. */
function guarded(check: string, run: () => Finding[] | Promise<Finding[]>): Promise<Finding[]> {
  return Promise.resolve().then(run).catch((err: unknown) => [fail(check, `the check itself failed: ${err instanceof Error ? err.message : String(err)}`)]);
}

/** Runs every check, writes one line per finding in a fixed order, and returns the exit code. */
export async function runDoctor(env: NodeJS.ProcessEnv, out: { write(s: string): unknown }): Promise<number> {
  const secrets = environmentSecrets(env);
  const { settings, findings: settingFindings, badVariable } = checkSettings(env, hostname());
  // Started together, written in order: the slowest check bounds the run, not their sum.
  const groups = [
    guarded('settings', () => settingFindings),
    guarded('node', () => [checkNode(process.version, process.execArgv, env, SHEBANG)]),
    guarded('docker', () => checkDocker(env)),
    guarded('registry', () => checkRegistry(env, settings.dockerRepository, secrets)),
    guarded('sidecar', async () => [await checkSidecar(env, settings, badVariable('SidecarUrl'))]),
    guarded('vault', () => checkVault(env, settings.awsRole, secrets)),
    guarded('syslog', async () => [await checkSyslog(settings, badVariable('SyslogAddr'))]),
  ];
  let failed = false;
  for (const group of groups) {
    for (const finding of await group) {
      failed ||= finding.status === 'FAIL';
      out.write(scrub(formatFinding(finding), secrets) + '\n');
    }
  }
  return failed ? 1 : 0;
}
