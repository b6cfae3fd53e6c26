// Finds our service's status in Sidecar's state dump (docs/health-checks.md). Pure: the caller
// fetched and parsed the JSON. Sidecar encodes its catalog.ServicesState as
//   {"Servers": {"<hostname>": {"Name", "Services": {"<id>": {"ID", ..., "Status": N}}, ...}}, ...}
// Anything that stops us finding a clear Status comes back as `unknown` with the reason, because
// the health policy treats every doubt as healthy ("never kill on doubt", docs/health-checks.md): a
// lookup that threw, or guessed, could shoot a healthy task.

/** Sidecar's service.Status values (Nitro/sidecar service/service.go, an iota from ALIVE). */
export const SIDECAR_STATUS_NAMES = ['ALIVE', 'TOMBSTONE', 'UNHEALTHY', 'UNKNOWN', 'DRAINING'] as const;

export type SidecarStatusName = (typeof SIDECAR_STATUS_NAMES)[number];
export type SidecarStatusCode = 0 | 1 | 2 | 3 | 4;

export type ServiceLookup =
  | { readonly kind: 'status'; readonly status: SidecarStatusCode; readonly name: SidecarStatusName }
  | { readonly kind: 'unknown'; readonly why: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknown(why: string): ServiceLookup {
  return { kind: 'unknown', why };
}

function own(record: Record<string, unknown>, key: string): unknown {
  // Own properties only: a hostname or id of "__proto__" or "constructor" must not find Object's.
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * The status Sidecar reports for `serviceId` (first 12 characters of the container id) on
 * `hostname` (TASK_HOST). The host is matched exactly, as the Go original's map lookup does.
 */
export function serviceStatusIn(state: unknown, hostname: string, serviceId: string): ServiceLookup {
  if (!isRecord(state)) return unknown('Sidecar state is not a JSON object');
  const servers = own(state, 'Servers');
  if (!isRecord(servers)) return unknown('Sidecar state has no "Servers" object');
  if (hostname === '') return unknown('our hostname is not known (TASK_HOST is not set)');

  const server = own(servers, hostname);
  if (server === undefined) return unknown(`host ${JSON.stringify(hostname)} not found in Sidecar`);
  if (!isRecord(server)) return unknown(`Sidecar's entry for host ${JSON.stringify(hostname)} is not an object`);

  // Sidecar pre-creates the map, but a Go nil map encodes as null: treat it as "no services".
  const services = own(server, 'Services');
  if (services === null || services === undefined) {
    return unknown(`service ${serviceId} not found on host ${JSON.stringify(hostname)} in Sidecar (host has no services)`);
  }
  if (!isRecord(services)) return unknown(`Sidecar's "Services" for host ${JSON.stringify(hostname)} is not an object`);

  const svc = own(services, serviceId);
  if (svc === undefined) return unknown(`service ${serviceId} not found on host ${JSON.stringify(hostname)} in Sidecar`);
  if (!isRecord(svc)) return unknown(`Sidecar's entry for service ${serviceId} is not an object`);

  const status = own(svc, 'Status');
  if (typeof status !== 'number' || !Number.isInteger(status)) {
    return unknown(`Sidecar's entry for service ${serviceId} has no integer "Status"`);
  }
  if (status < 0 || status >= SIDECAR_STATUS_NAMES.length) {
    return unknown(`Sidecar reports an unrecognised status ${status} for service ${serviceId}`);
  }
  const code = status as SidecarStatusCode;
  return { kind: 'status', status: code, name: SIDECAR_STATUS_NAMES[code] };
}
