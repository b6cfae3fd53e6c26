// What the executor logs about itself at start-up (docs/settings.md): its settings, then the
// environment variables an operator debugging a task needs, never a secret. Pure.
import { Settings, SETTING_SPECS } from './settings';
import { formatGoDuration } from './durations';

const LOGGED_PREFIXES = ['MESOS', 'EXECUTOR', 'VAULT', 'HOME'];
// Secrets by name; their values are also registered with the logger's redaction.
const SECRET_VARIABLES = new Set([
  'VAULT_TOKEN', 'VAULT_USERNAME', 'VAULT_PASSWORD', 'MESOS_EXECUTOR_AUTHENTICATION_TOKEN',
]);

export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLES.has(name) || /PASSWORD|SECRET|TOKEN$/i.test(name);
}

/** The Go original's `Executor Config` lines: ` * KillTaskTimeout:     5`, values aligned. */
export function settingsLines(settings: Settings): string[] {
  const width = Math.max(...SETTING_SPECS.map((spec) => spec.name.length)) + 1;
  return SETTING_SPECS.map((spec) => {
    const value = settings[spec.key];
    const shown = Array.isArray(value) ? value.join(',')
      : spec.kind === 'duration' ? formatGoDuration(value as number) : String(value);
    return ` * ${`${spec.name}:`.padEnd(width)} ${shown}`;
  });
}

/** The Go original's `Environment` lines: ` * %-30s: %s`. */
export function environmentLines(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => LOGGED_PREFIXES.some((p) => name.startsWith(p)) && !isSecretVariable(name))
    .sort()
    .map((name) => ` * ${name.padEnd(30)}: ${env[name]}`);
}
