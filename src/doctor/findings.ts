// What each check of `sidecar-executor doctor` finds: one line each, a status word, the check's
// name and a short sentence. Pure.
import type { Logger } from '../logging/logger';

export type Status = 'ok' | 'warn' | 'FAIL';

export interface Finding { readonly status: Status; readonly check: string; readonly text: string }

export const ok = (check: string, text: string): Finding => ({ status: 'ok', check, text });
export const warn = (check: string, text: string): Finding => ({ status: 'warn', check, text });
export const fail = (check: string, text: string): Finding => ({ status: 'FAIL', check, text });

/** `ok    docker      engine 20.10.24 ...`: aligned, so a column of FAILs stands out. */
export function formatFinding(finding: Finding): string {
  return `${finding.status.padEnd(6)}${finding.check.padEnd(12)}${finding.text}`;
}

/**
 * The logger the Vault and Sidecar clients want, for doctor: their log lines would repeat what
 * the finding says, so they are dropped, but every secret the clients learn (a token from a
 * login) is handed to `secrets` to be scrubbed from doctor's output.
 */
export function quietLogger(secrets: Set<string>): Logger {
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined,
    child: () => logger,
    redact: (secret) => { if (secret !== undefined && secret.length >= 4) secrets.add(secret); },
    scrub: (text) => [...secrets].reduce((out, secret) => out.split(secret).join('[REDACTED]'), text),
  };
  return logger;
}

/** Races `work` against a timer: a check must answer within its bound even if a call hangs. */
export function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
