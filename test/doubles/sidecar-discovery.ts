// The discovery part of the Sidecar double: what Sidecar's Docker discovery makes of the engine's
// containers. Sidecar lists the RUNNING containers (GET /containers/json, not all) on a new
// connection each time (NinesStack/sidecar discovery/docker_discovery.go getContainers), skips
// those labelled SidecarDiscover=false, and turns each into a service (service/service.go
// ToService, named by discovery/service_namer.go's DockerLabelNamer). Sidecar also drops a
// container from its list on Docker's die/stop events, but its service only becomes a TOMBSTONE in
// the next TombstoneServices round (every 2 s), so a listing every discovery interval (1 s) is no
// slower than the real one; the double does without the event stream.
import * as http from 'node:http';
import * as os from 'node:os';

export const ALIVE = 0, TOMBSTONE = 1, UNHEALTHY = 2, UNKNOWN = 3, DRAINING = 4;

export interface SidecarPort { Type: string; Port: number; ServicePort: number; IP: string }

export interface SidecarService {
  ID: string; Name: string; Image: string; Created: string; Hostname: string;
  Ports: SidecarPort[]; Updated: string; ProxyMode: string; Status: number;
}

/** The fields of the engine's container list that Sidecar reads. */
export interface DockerContainerSummary {
  Id: string;
  Names?: string[];
  Image: string;
  /** Unix seconds. */
  Created: number;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels?: Record<string, string> | null;
}

/** What ToService needs besides the container: Sidecar's own identity and the time. */
export interface ServiceOrigin { hostname: string; advertiseIp: string; updated: string }

/** What a static discovery config gives for a service without a container. */
export type StaticService = Pick<SidecarService, 'Name' | 'Image' | 'Created' | 'Ports' | 'ProxyMode'>;

/** An RFC 3339 time as Go's encoding/json writes a UTC time.Time: no trailing zeros in the fraction. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** Sidecar's default advertise address: the host's first private (non-loopback) IPv4 address. */
export function defaultAdvertiseIp(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return '127.0.0.1';
}

/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
function atoi(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * service.ToService plus the namer, or undefined for a container Sidecar skips. Every published
 * port becomes one Port: Docker 20.10 lists a port published on all addresses twice (0.0.0.0 and
 * ::), so it comes twice, once with the advertise IP and once with "::" (buildPortFor keeps any
 * bound IP other than 0.0.0.0 or ""). ServicePort comes from the label ServicePort_<private port>.
 */
export function toService(container: DockerContainerSummary, origin: ServiceOrigin): SidecarService | undefined {
  const labels = container.Labels ?? {};
  if (labels.SidecarDiscover === 'false') return undefined;
  const ports: SidecarPort[] = [];
  for (const port of container.Ports ?? []) {
    if (!port.PublicPort) continue;
    const boundIp = port.IP ?? '';
    const label = labels[`ServicePort_${port.PrivatePort}`];
    ports.push({
      Type: port.Type,
      Port: port.PublicPort,
      ServicePort: label === undefined ? 0 : atoi(label) ?? 0,
      IP: boundIp !== '0.0.0.0' && boundIp !== '' ? boundIp : origin.advertiseIp,
    });
  }
  return {
    ID: container.Id.slice(0, 12),
    // DockerLabelNamer (the default namer, label ServiceName): the label, else the image.
    Name: labels.ServiceName ?? container.Image,
    Image: container.Image,
    Created: rfc3339(container.Created * 1000),
    Hostname: origin.hostname,
    Ports: ports,
    Updated: origin.updated,
    ProxyMode: labels.ProxyMode ?? 'http',
    // Replaced by the health check's verdict (healthy.Monitor.MarkService) before it is listed.
    Status: ALIVE,
  };
}

const LIST_TIMEOUT_MS = 5000;

/** GET /containers/json (running containers only) over the engine's unix socket. */
export function listRunningContainers(socketPath: string, signal: AbortSignal): Promise<DockerContainerSummary[]> {
  return new Promise((resolve, reject) => {
    // agent: false, a new connection every time as Sidecar does: no idle socket outlives close().
    const req = http.get({ socketPath, path: '/containers/json', agent: false, signal, timeout: LIST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`Docker answered ${res.statusCode}: ${body.slice(0, 200)}`));
        try {
          const parsed: unknown = JSON.parse(body);
          if (!Array.isArray(parsed)) throw new Error('the container list is not a JSON array');
          resolve(parsed as DockerContainerSummary[]);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Docker did not answer within ${LIST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

export interface DiscoveryOptions {
  /** The engine's socket, or null for none: then only static services are found. */
  dockerSocket: string | null;
  /** DiscoverySleepInterval: the pause between passes. */
  intervalMs: number;
  origin(): ServiceOrigin;
  /** Hears the services found by each pass. */
  onPass(found: SidecarService[]): void;
}

/** Docker discovery (plus static services, as MultiDiscovery combines them) on its own timer. */
export class ServiceDiscovery {
  /** Why the last listing failed (engine unreachable...); undefined after a good one. */
  lastError: string | undefined;
  #containers: DockerContainerSummary[] = [];
  #static = new Map<string, StaticService>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #abort = new AbortController();
  readonly #options: DiscoveryOptions;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  start(): void { this.#schedule(0); }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
  }

  /** A service without a container (discovery/static_discovery.go), found from the next pass. */
  addStatic(id: string, service: StaticService): void { this.#static.set(id, service); }
  removeStatic(id: string): void { this.#static.delete(id); }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.#pass().finally(() => { if (!this.#stopped) this.#schedule(this.#options.intervalMs); });
    }, delayMs);
  }

  async #pass(): Promise<void> {
    const socket = this.#options.dockerSocket;
    if (socket !== null) {
      try {
        this.#containers = await listRunningContainers(socket, this.#abort.signal);
        this.lastError = undefined;
      } catch (err) {
        // getContainers keeps the services it had and tries again next pass; Sidecar only logs.
        this.lastError = `Docker discovery failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (this.#stopped) return;
    const origin = this.#options.origin();
    const found: SidecarService[] = [];
    for (const container of this.#containers) {
      const record = toService(container, origin);
      if (record) found.push(record);
    }
    for (const [id, s] of this.#static) {
      found.push({ ID: id, Name: s.Name, Image: s.Image, Created: s.Created, Hostname: origin.hostname, Ports: s.Ports, Updated: origin.updated, ProxyMode: s.ProxyMode, Status: ALIVE });
    }
    this.#options.onPass(found);
  }
}
