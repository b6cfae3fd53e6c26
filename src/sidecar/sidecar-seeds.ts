// SIDECAR_SEEDS for a task that runs Sidecar itself (SeedSidecar, docs/health-checks.md): the
// agent's /state names the leading master, whose /slaves lists every agent's hostname. As in the Go
// original, any failure is logged and the task starts without the variable: seeding is a
// convenience and must never keep a task from running.
import { bodySnippet, request, type HttpResponse } from '../http/http-request';
import type { Logger } from '../logging/logger';

export interface SidecarSeedsOptions {
  /** MESOS_AGENT_ENDPOINT (host:port). */
  readonly agentEndpoint: string;
  /** EXECUTOR_MESOS_MASTER_PORT; empty means the URL carries no port, as in the Go original. */
  readonly masterPort: string;
  /** HttpTimeout, for each request. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** Go's http.Client follows up to 10; a non-leading master answers with one to the leader. */
const MAX_REDIRECTS = 5;

class SeedError extends Error {}

async function getJson(url: string, what: string, options: SidecarSeedsOptions): Promise<Record<string, unknown>> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: HttpResponse;
    try {
      res = await request({ url: current, timeoutMs: options.timeoutMs, signal: options.signal, headers: { accept: 'application/json' } });
    } catch (err) {
      throw new SeedError(`Unable to fetch ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const location = res.headers.location;
    if (res.status >= 300 && res.status <= 399 && location && hop < MAX_REDIRECTS) {
      // Mesos redirects to a scheme-relative URL (//leader:5050/master/slaves).
      current = new URL(location, current).toString();
      continue;
    }
    if (res.status < 200 || res.status > 299) {
      throw new SeedError(`Unable to fetch ${what}: ${current} answered HTTP ${res.status}: ${bodySnippet(res.body)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new SeedError(`Error parsing ${what} from ${current}: not JSON: ${bodySnippet(res.body, 80)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SeedError(`Error parsing ${what} from ${current}: not a JSON object`);
    }
    return parsed as Record<string, unknown>;
  }
}

function hostPort(host: string, port: string): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === '' ? bracketed : `${bracketed}:${port}`;
}

async function seedsOrThrow(options: SidecarSeedsOptions): Promise<string[]> {
  if (options.agentEndpoint.trim() === '') {
    throw new SeedError("Can't get MESOS_AGENT_ENDPOINT from env! Won't provide Sidecar seeds.");
  }
  const agent = await getJson(`http://${options.agentEndpoint.trim()}/state`, 'Mesos master info from the agent', options);
  const master = agent.master_hostname;
  if (typeof master !== 'string' || master.trim() === '') {
    throw new SeedError('The Mesos agent\'s /state names no master_hostname (is the agent registered?)');
  }

  const listing = await getJson(`http://${hostPort(master.trim(), options.masterPort.trim())}/slaves`, 'the agent list from the Mesos master', options);
  if (!Array.isArray(listing.slaves)) throw new SeedError('The Mesos master\'s /slaves has no "slaves" list');
  const hostnames: string[] = [];
  for (const slave of listing.slaves as unknown[]) {
    const name = typeof slave === 'object' && slave !== null ? (slave as Record<string, unknown>).hostname : undefined;
    if (typeof name === 'string' && name !== '' && !hostnames.includes(name)) hostnames.push(name);
  }
  // An empty SIDECAR_SEEDS would start a Sidecar that can join nobody; without the variable it
  // at least falls back to its own configuration.
  if (hostnames.length === 0) throw new SeedError('The Mesos master listed no agent hostnames');
  return hostnames;
}

/** The agents' hostnames in the master's order (duplicates dropped), or undefined after logging why. */
export async function fetchSidecarSeeds(options: SidecarSeedsOptions): Promise<string[] | undefined> {
  try {
    const seeds = await seedsOrThrow(options);
    options.logger.info('Fetched Sidecar seeds from the Mesos master', { seeds: seeds.length });
    return seeds;
  } catch (err) {
    options.logger.error(err instanceof SeedError ? err.message : `Unable to fetch Sidecar seeds: ${String(err)}`);
    return undefined;
  }
}
