// A Sidecar that speaks the real protocol on 127.0.0.1 (port 0), for client and end-to-end tests.
// The state dump is encoded the way Sidecar's catalog.ServicesState marshals (Nitro/sidecar
// catalog/services_state.go, service/service.go): Go field names, RFC 3339 times. The drain
// handler follows sidecarhttp/http_api.go: POST /api/services/{id}/drain finds the id among the
// services of Sidecar's OWN host (state.Hostname), sets DRAINING and answers 202 with a text
// body; an unknown id is a 404 with a JSON error.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';

export const ALIVE = 0, TOMBSTONE = 1, UNHEALTHY = 2, UNKNOWN = 3, DRAINING = 4;

export interface SidecarPort { Type: string; Port: number; ServicePort: number; IP: string }

export interface SidecarService {
  ID: string; Name: string; Image: string; Created: string; Hostname: string;
  Ports: SidecarPort[]; Updated: string; ProxyMode: string; Status: number;
}

interface Server { Name: string; Services: Record<string, SidecarService>; LastUpdated: string; LastChanged: string }

export interface SidecarCall { at: number; method: string; path: string; status: number }

export interface SidecarDoubleOptions {
  /** Sidecar's own hostname: drain only finds services listed under it. Default: os.hostname(). */
  hostname?: string;
  clusterName?: string;
  /** Clock for call timestamps and Updated fields (a fake clock's now, for virtual time). */
  now?: () => number;
}

type Mode = { kind: 'normal' } | { kind: 'fail'; status: number } | { kind: 'garbage' };

export class SidecarDouble {
  readonly hostname: string;
  readonly calls: SidecarCall[] = [];
  #port = 0;
  #server: http.Server;
  #servers: Record<string, Server> = {};
  #lastChanged: string;
  #mode: Mode = { kind: 'normal' };
  #modeLeft = Infinity;
  #slowMs = 0;
  #slowLeft = Infinity;
  #timers = new Set<NodeJS.Timeout>();
  readonly #clusterName: string;
  readonly #now: () => number;

  private constructor(options: SidecarDoubleOptions) {
    this.hostname = options.hostname ?? os.hostname();
    this.#clusterName = options.clusterName ?? 'default';
    this.#now = options.now ?? Date.now;
    this.#lastChanged = new Date(0).toISOString().replace('.000', '');
    this.#server = this.#newServer();
  }

  static async start(options: SidecarDoubleOptions = {}): Promise<SidecarDouble> {
    const double = new SidecarDouble(options);
    await double.#listen(0);
    return double;
  }

  get port(): number { return this.#port; }
  /** The EXECUTOR_SIDECAR_URL for this double. */
  get url(): string { return `http://127.0.0.1:${this.#port}/state.json`; }
  get baseUrl(): string { return `http://127.0.0.1:${this.#port}`; }

  /** Adds or updates a service (id = first 12 of the container id) on `host`. */
  setService(host: string, id: string, status: number, fields: Partial<SidecarService> = {}): void {
    const now = this.#iso();
    const server = this.#servers[host] ??= { Name: host, Services: {}, LastUpdated: now, LastChanged: now };
    const previous = server.Services[id];
    const defaults: SidecarService = {
      ID: id, Name: `/mesos-${id}`, Image: 'example/app:1.0', Created: now, Hostname: host,
      Ports: [{ Type: 'tcp', Port: 31000, ServicePort: 8080, IP: '127.0.0.1' }], Updated: now, ProxyMode: 'http', Status: status,
    };
    server.Services[id] = { ...defaults, ...previous, ...fields, Updated: now, Status: status };
    server.LastUpdated = now;
    if (previous?.Status !== status) { server.LastChanged = now; this.#lastChanged = now; }
  }

  removeService(host: string, id: string): void {
    delete this.#servers[host]?.Services[id];
  }

  removeHost(host: string): void {
    delete this.#servers[host];
  }

  statusOf(host: string, id: string): number | undefined {
    return this.#servers[host]?.Services[id]?.Status;
  }

  /** The body GET /state.json serves. */
  stateJson(): string {
    return JSON.stringify({ Servers: this.#servers, LastChanged: this.#lastChanged, ClusterName: this.#clusterName, Hostname: this.hostname });
  }

  /** Answers every request with `status` (and a Sidecar-style JSON error) for the next `times`. */
  failWith(status: number, times = Infinity): void { this.#mode = { kind: 'fail', status }; this.#modeLeft = times; }
  /** Answers every request with 200 and a body that is not JSON, for the next `times`. */
  garbage(times = Infinity): void { this.#mode = { kind: 'garbage' }; this.#modeLeft = times; }
  /** Delays every answer by `ms`, for the next `times` requests. */
  slow(ms: number, times = Infinity): void { this.#slowMs = ms; this.#slowLeft = times; }
  /** Back to prompt, correct answers. */
  normal(): void { this.#mode = { kind: 'normal' }; this.#modeLeft = Infinity; this.#slowMs = 0; this.#slowLeft = Infinity; }

  /** Stops listening: connections to the port are refused until up(). */
  async down(): Promise<void> {
    await this.#close();
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (this.#server.listening) return;
    this.#server = this.#newServer();
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    await this.#close();
  }

  callsTo(method: string, pathPrefix: string): SidecarCall[] {
    return this.calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix));
  }

  #iso(): string { return new Date(this.#now()).toISOString(); }

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

  async #close(): Promise<void> {
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
      const svc = this.#servers[this.hostname]?.Services[id];
      if (!svc) return [404, json, JSON.stringify({ status: 'error', message: `Not Found - Service ID ${JSON.stringify(id)} not found` })];
      this.setService(this.hostname, id, DRAINING);
      return [202, 'text/plain; charset=utf-8', `Service ${JSON.stringify(svc.Name)} instance ${JSON.stringify(svc.ID)} set to DRAINING`];
    }
    if (path === '/state.json' || path === '/api/state.json') {
      if (method !== 'GET') return [405, 'text/plain', ''];
      return [200, json, this.stateJson()];
    }
    return [404, 'text/plain; charset=utf-8', '404 page not found\n'];
  }
}
