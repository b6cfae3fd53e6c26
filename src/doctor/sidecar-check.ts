// doctor's Sidecar check: one GET of SidecarUrl, as a health check makes it (bounded by
// HttpTimeout, without the retries), its answer parsed as Sidecar's state, and our TASK_HOST
// looked for among its hosts.
import { systemClock } from '../clock';
import type { Settings } from '../config/settings';
import { SidecarClient } from '../sidecar/sidecar-client';
import { fail, ok, quietLogger, warn, type Finding } from './findings';

/** HttpTimeout bounds the request, but doctor answers within seconds even when it is long. */
const SIDECAR_TIMEOUT_CAP_MS = 5000;

/** Why an unusable Sidecar matters: the health policy counts doubt as healthy (health-policy.ts). */
const CONSEQUENCE = 'the executor would count every health check as healthy (an unhealthy task is never replaced) and could not drain a killed service';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const has = (record: Record<string, unknown>, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

/**
 * A missing TASK_HOST, or one Sidecar does not list, is a warning, not a failure: Sidecar lists
 * its own host only once a service runs there, so an idle agent is never listed. The line says
 * what the executor would do, and what Sidecar calls its host, so a real mismatch is plain.
 */
export async function checkSidecar(env: NodeJS.ProcessEnv, settings: Settings, badVariable: string | undefined): Promise<Finding> {
  if (badVariable !== undefined) return fail('sidecar', `not checked: ${badVariable} is not valid (see settings)`);
  // Without user:password, were SidecarUrl to carry any.
  const url = ((u) => `${u.protocol}//${u.host}${u.pathname}${u.search}`)(new URL(settings.sidecarUrl));
  const client = new SidecarClient({
    sidecarUrl: settings.sidecarUrl, httpTimeoutMs: Math.min(settings.httpTimeoutMs, SIDECAR_TIMEOUT_CAP_MS), retryCount: 0, retryDelayMs: 0,
    clock: systemClock, logger: quietLogger(new Set()),
  });
  const result = await client.fetchState();
  // An empty body leaves the reason ending in ": ".
  if (!result.ok) return fail('sidecar', `${result.why.replace(/:\s*$/, '')}: ${CONSEQUENCE}`);
  const state = result.state;
  if (!isRecord(state) || !isRecord(state.Servers)) {
    return fail('sidecar', `the answer of ${url} is JSON but not Sidecar's state (no "Servers" object; is SidecarUrl right?): ${CONSEQUENCE}`);
  }
  const servers = state.Servers;
  const sidecarHost = typeof state.Hostname === 'string' ? state.Hostname : undefined;
  const itCalls = sidecarHost === undefined ? '' : `; Sidecar's own host is ${JSON.stringify(sidecarHost)}`;
  const taskHost = env.TASK_HOST;
  if (!taskHost) {
    return warn('sidecar', `reachable at ${url}, but TASK_HOST is not set (the scheduler sets it per task; set it to this agent's name to check it): health checks would not find the task and would count as healthy${itCalls}`);
  }
  if (has(servers, taskHost)) {
    const services = isRecord(servers[taskHost]) ? (servers[taskHost] as Record<string, unknown>).Services : undefined;
    const count = isRecord(services) ? Object.keys(services).length : 0;
    return ok('sidecar', `reachable at ${url}, host ${JSON.stringify(taskHost)} listed with ${count} service(s)`);
  }
  if (taskHost === sidecarHost) {
    return warn('sidecar', `reachable at ${url}; host ${JSON.stringify(taskHost)} is Sidecar's own but not listed yet: Sidecar lists it once a service runs there`);
  }
  const listed = Object.keys(servers);
  const hosts = listed.length === 0 ? 'no host' : listed.slice(0, 5).map((h) => JSON.stringify(h)).join(', ') + (listed.length > 5 ? ` and ${listed.length - 5} more` : '');
  return warn('sidecar', `reachable at ${url}, but host ${JSON.stringify(taskHost)} (TASK_HOST) is not in its state (it lists ${hosts}${itCalls}): health checks would not find the task and would count as healthy`);
}
