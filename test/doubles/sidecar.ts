// A Sidecar that behaves as the real one was seen to, on 127.0.0.1 (port 0). It discovers the
// running containers of a Docker engine (sidecar-discovery.ts) and health-checks them on Sidecar's
// own schedule (NinesStack/sidecar healthy/healthy.go: every HEALTH_INTERVAL, 3 s; a check starts
// UNKNOWN and MaxCount is 1, so one failure makes the service UNHEALTHY). A new service goes
// absent, UNKNOWN, UNHEALTHY (its first check fails: it is still starting), then ALIVE. A stopped
// container's service becomes a TOMBSTONE and stays listed. A restarted Sidecar answers UNHEALTHY
// for every service until its first check (observed: 2-5 s). Services of other hosts come from
// gossip, so tests set them. Tests scale the intervals down uniformly for speed.
//
// The state dump is encoded as catalog.ServicesState marshals (catalog/services_state.go): Go field
// names, RFC 3339 times. Drain follows sidecarhttp/http_api.go: POST /api/services/{id}/drain finds
// the id among the services of Sidecar's OWN host (GetLocalServiceByID) and answers 202 with JSON.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import { ServiceDiscovery, defaultAdvertiseIp, rfc3339, type SidecarService, type StaticService } from './sidecar-discovery';
import { OwnHostCatalog, type Server, type StatusChange } from './sidecar-own-host';

export { ALIVE, DRAINING, TOMBSTONE, UNHEALTHY, UNKNOWN, type SidecarPort, type SidecarService } from './sidecar-discovery';
export type { StatusChange } from './sidecar-own-host';

export interface SidecarCall { at: number; method: string; path: string; status: number }

export interface SidecarDoubleOptions {
  /** Sidecar's own hostname: its services are listed, and drained, under it. Default: os.hostname(). */
  hostname?: string;
  clusterName?: string;
  /** The address put in the Ports of discovered services. Default: the host's first private IPv4. */
  advertiseIp?: string;
  /** The engine to discover containers in; null for none (own host: only static services). */
  dockerSocket?: string | null;
  /** Sidecar's DiscoverySleepInterval. Default 1000. */
  discoveryIntervalMs?: number;
  /** healthy.HEALTH_INTERVAL. Default 3000. */
  checkIntervalMs?: number;
  /** How long a restarted Sidecar answers UNHEALTHY before its first check. Default 3000. */
  restartUnhealthyMs?: number;
  /** Clock for call timestamps and Updated fields (a fake clock's now, for virtual time). */
  now?: () => number;
}

type Mode = { kind: 'normal' } | { kind: 'fail'; status: number } | { kind: 'garbage' };

export class SidecarDouble {
  readonly hostname: string;
  readonly advertiseIp: string;
  readonly calls: SidecarCall[] = [];
  #port = 0;
  #server: http.Server;
  readonly #ownHost: OwnHostCatalog;
  readonly #discovery: ServiceDiscovery;
  #gossip: Record<string, Server> = {};
  #lastChanged = rfc3339(0);
  #waiters = new Set<() => void>();
  #mode: Mode = { kind: 'normal' };
  #modeLeft = Infinity;
  #slowMs = 0;
  #slowLeft = Infinity;
  #timers = new Set<NodeJS.Timeout>();
  #checkTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #clusterName: string;
  readonly #checkIntervalMs: number;
  readonly #restartUnhealthyMs: number;
  readonly #now: () => number;

  private constructor(options: SidecarDoubleOptions) {
    this.hostname = options.hostname ?? os.hostname();
    this.advertiseIp = options.advertiseIp ?? defaultAdvertiseIp();
    this.#clusterName = options.clusterName ?? 'default';
    this.#checkIntervalMs = options.checkIntervalMs ?? 3000;
    this.#restartUnhealthyMs = options.restartUnhealthyMs ?? 3000;
    const now = this.#now = options.now ?? Date.now;
    this.#ownHost = new OwnHostCatalog(now, (at) => { this.#lastChanged = at; this.#wake(); });
    this.#discovery = new ServiceDiscovery({
      dockerSocket: options.dockerSocket === undefined ? '/var/run/docker.sock' : options.dockerSocket,
      intervalMs: options.discoveryIntervalMs ?? 1000,
      origin: () => ({ hostname: this.hostname, advertiseIp: this.advertiseIp, updated: rfc3339(now()) }),
      onPass: (found) => this.#ownHost.track(found),
    });
    this.#server = this.#newServer();
  }

  static async start(options: SidecarDoubleOptions = {}): Promise<SidecarDouble> {
    const double = new SidecarDouble(options);
    await double.#listen(0);
    double.#discovery.start();
    double.#scheduleChecks(double.#checkIntervalMs);
    return double;
  }

  get port(): number { return this.#port; }
  /** The EXECUTOR_SIDECAR_URL for this double. */
  get url(): string { return `http://127.0.0.1:${this.#port}/state.json`; }
  get baseUrl(): string { return `http://127.0.0.1:${this.#port}`; }

  // --- Sidecar's own host: services come from discovery, statuses from the checks. -------------

  /** From the next check on, the checks of own-host service `id` fail (it goes UNHEALTHY). */
  failChecks(id: string): void { this.#ownHost.setCheckOutcome(id, false); }
  /** From the next check on, they pass (ALIVE; a DRAINING service stays DRAINING). */
  passChecks(id: string): void { this.#ownHost.setCheckOutcome(id, true); }

  /** A service without a container (discovery/static_discovery.go), listed from the next pass. */
  addStaticService(id: string, fields: Partial<StaticService> = {}): void {
    this.#discovery.addStatic(id, { Name: 'example-app', Image: 'example/app:1.0', Created: this.#iso(), Ports: [], ProxyMode: 'http', ...fields });
  }
  /** Gone from the next discovery pass on: its service becomes a TOMBSTONE. */
  removeStaticService(id: string): void { this.#discovery.removeStatic(id); }

  /** Why the last discovery pass failed (engine unreachable...); undefined after a good one. */
  get lastDiscoveryError(): string | undefined { return this.#discovery.lastError; }

  /**
   * Test override of what the state dump (and statusOf) shows for own-host service `id`: `status`
   * or, with 'missing', nothing, whatever its checks say, until clearOverrides(). For states the
   * real Sidecar reaches only slowly or awkwardly; discovery, checks and drains go on underneath.
   */
  overrideStatus(id: string, status: number | 'missing'): void { this.#ownHost.override(id, status); this.#wake(); }
  /** Test override: the state dump leaves out Sidecar's own host, until clearOverrides(). */
  overrideHostMissing(): void { this.#ownHost.hide(); this.#wake(); }
  clearOverrides(): void { this.#ownHost.clearOverrides(); this.#wake(); }

  // --- Other hosts: their services come from gossip, so they are whatever a test says. ---------

  setGossipService(host: string, id: string, status: number, fields: Partial<SidecarService> = {}): void {
    if (host === this.hostname) throw new Error(`${host} is Sidecar's own host: its services come from discovery and checks`);
    const now = this.#iso();
    const server = this.#gossip[host] ??= { Name: host, Services: {}, LastUpdated: now, LastChanged: now };
    const previous = server.Services[id];
    const defaults: SidecarService = {
      ID: id, Name: 'example-app', Image: 'example/app:1.0', Created: now, Hostname: host,
      Ports: [{ Type: 'tcp', Port: 31000, ServicePort: 8080, IP: '10.0.0.2' }], Updated: now, ProxyMode: 'http', Status: status,
    };
    server.Services[id] = { ...defaults, ...previous, ...fields, Updated: now, Status: status };
    server.LastUpdated = now;
    if (previous?.Status !== status) { server.LastChanged = now; this.#lastChanged = now; }
  }

  // --- What Sidecar says. ----------------------------------------------------------------------

  /** The status the state dump shows for `id` on `host`, or undefined when it does not list it. */
  statusOf(host: string, id: string): number | undefined {
    if (host !== this.hostname) return this.#gossip[host]?.Services[id]?.Status;
    return this.#ownHost.server(this.hostname)?.Services[id]?.Status;
  }

  /** Every status own-host service `id` took in Sidecar's catalog (overrides aside), in order. */
  history(id: string): StatusChange[] { return this.#ownHost.history(id); }

  /**
   * Resolves as soon as statusOf(own host, id) is `status`, in the same turn as the change, so a
   * count of calls taken right after includes none answered before it.
   */
  untilStatus(id: string, status: number, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.statusOf(this.hostname, id) !== status) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = this.history(id).map((c) => c.status).join(' ') || 'nothing';
        reject(new Error(`Sidecar did not report ${id} as ${status} within ${timeoutMs} ms (its statuses: ${seen}; ${this.lastDiscoveryError ?? 'discovery fine'})`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** The body GET /state.json serves. */
  stateJson(): string {
    const own = this.#ownHost.server(this.hostname);
    const servers = own ? { ...this.#gossip, [this.hostname]: own } : this.#gossip;
    return JSON.stringify({ Servers: servers, LastChanged: this.#lastChanged, ClusterName: this.#clusterName, Hostname: this.hostname });
  }

  callsTo(method: string, pathPrefix: string): SidecarCall[] {
    return this.calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix));
  }

  // --- Failure modes of the HTTP API. ----------------------------------------------------------

  /** Answers every request with `status` (and a Sidecar-style JSON error) for the next `times`. */
  failWith(status: number, times = Infinity): void { this.#mode = { kind: 'fail', status }; this.#modeLeft = times; }
  /** Answers every request with 200 and a body that is not JSON, for the next `times`. */
  garbage(times = Infinity): void { this.#mode = { kind: 'garbage' }; this.#modeLeft = times; }
  /** Delays every answer by `ms`, for the next `times` requests. */
  slow(ms: number, times = Infinity): void { this.#slowMs = ms; this.#slowLeft = times; }
  /** Back to prompt, correct answers. */
  normal(): void { this.#mode = { kind: 'normal' }; this.#modeLeft = Infinity; this.#slowMs = 0; this.#slowLeft = Infinity; }

  /** Stops listening (connections are refused until up()); discovery and checks go on. */
  async down(): Promise<void> { await this.#closeServer(); }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (this.#server.listening || this.#closed) return;
    this.#server = this.#newServer();
    await this.#listen(this.#port);
  }

  /**
   * A process restart: down for `downMs`, then up, answering UNHEALTHY for every own-host service
   * that is not a TOMBSTONE until its first check, `unhealthyMs` later (this replaces DRAINING).
   * The catalog survives (peers gossip it back); the checks start afresh.
   */
  async restart(options: { downMs?: number; unhealthyMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    await this.down();
    clearTimeout(this.#checkTimer); // a process that is down checks nothing
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    this.#ownHost.restart();
    this.#scheduleChecks(options.unhealthyMs ?? this.#restartUnhealthyMs);
    await this.up();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#discovery.stop();
    clearTimeout(this.#checkTimer);
    await this.#closeServer();
  }

  // --- Checks. ---------------------------------------------------------------------------------

  #scheduleChecks(delayMs: number): void {
    clearTimeout(this.#checkTimer);
    if (this.#closed) return;
    this.#checkTimer = setTimeout(() => {
      this.#ownHost.runChecks();
      this.#scheduleChecks(this.#checkIntervalMs);
    }, delayMs);
  }

  #wake(): void { for (const check of [...this.#waiters]) check(); }

  #iso(): string { return rfc3339(this.#now()); }

  // --- HTTP. -----------------------------------------------------------------------------------

  #newServer(): http.Server {
    return http.createServer((req, res) => {
      req.resume();
      req.on('end', () => this.#handle(req, res));
    });
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async #closeServer(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const [status, type, body] = this.#answer(method, path);
    this.calls.push({ at: this.#now(), method, path, status });
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (this.#slowMs > 0 && this.#slowLeft > 0) {
      this.#slowLeft--;
      const timer = setTimeout(() => { this.#timers.delete(timer); send(); }, this.#slowMs);
      this.#timers.add(timer);
    } else send();
  }

  #answer(method: string, path: string): [number, string, string] {
    const json = 'application/json';
    if (this.#mode.kind !== 'normal' && this.#modeLeft > 0) {
      const mode = this.#mode;
      if (--this.#modeLeft <= 0) this.#mode = { kind: 'normal' };
      if (mode.kind === 'garbage') return [200, 'text/html', '<html><body>502 Bad Gateway (not JSON)'];
      return [mode.status, json, JSON.stringify({ status: 'error', message: 'Internal Server Error - Something went terribly wrong' })];
    }
    const drain = /^\/api\/services\/([^/]+)\/drain$/.exec(path);
    if (drain) {
      // gorilla/mux routes the path with .Methods("POST"): another method matches no route.
      if (method !== 'POST') return [405, 'text/plain', ''];
      const id = decodeURIComponent(drain[1] ?? '');
      const drained = this.#ownHost.drain(id);
      if (!drained) return [404, json, JSON.stringify({ status: 'error', message: `Not Found - Service ID ${JSON.stringify(id)} not found` })];
      const message = `Service ${JSON.stringify(drained.Name)} instance ${JSON.stringify(drained.ID)} set to DRAINING`;
      return [202, json, JSON.stringify({ Message: message }, null, 2)];
    }
    if (path === '/state.json' || path === '/api/state.json') {
      if (method !== 'GET') return [405, 'text/plain', ''];
      return [200, json, this.stateJson()];
    }
    return [404, 'text/plain; charset=utf-8', '404 page not found\n'];
  }
}

