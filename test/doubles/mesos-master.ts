// A Mesos master's agent listing on 127.0.0.1 (port 0), for SIDECAR_SEEDS (docs/health-checks.md).
// It answers GET /slaves and GET /master/slaves (libprocess serves a delegate's endpoints under
// both) with the shape the real master's Http::slaves writes: {"slaves": [...], "recovered_slaves": []}.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MasterCall { method: string; path: string; status: number }

type Mode = { kind: 'normal' } | { kind: 'fail'; status: number } | { kind: 'garbage' } | { kind: 'redirect'; location: string };

export class MesosMasterDouble {
  readonly calls: MasterCall[] = [];
  #hostnames: string[];
  #mode: Mode = { kind: 'normal' };
  readonly #server: http.Server;

  private constructor(hostnames: string[]) {
    this.#hostnames = hostnames;
    this.#server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => this.#handle(req, res));
    });
  }

  static async start(hostnames: string[] = ['agent-1.example.com', 'agent-2.example.com']): Promise<MesosMasterDouble> {
    const double = new MesosMasterDouble(hostnames);
    await new Promise<void>((resolve, reject) => {
      double.#server.once('error', reject);
      double.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return double;
  }

  get port(): number { return (this.#server.address() as AddressInfo).port; }

  setHostnames(hostnames: string[]): void { this.#hostnames = hostnames; }
  /** Every request answers `status` with a text body. */
  failWith(status: number): void { this.#mode = { kind: 'fail', status }; }
  /** Every request answers 200 with a body that is not JSON. */
  garbage(): void { this.#mode = { kind: 'garbage' }; }
  /** Answers 307 to `location`, as a non-leading master does (e.g. "//leader:5050/master/slaves"). */
  redirectTo(location: string): void { this.#mode = { kind: 'redirect', location }; }
  normal(): void { this.#mode = { kind: 'normal' }; }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  /** The body GET /slaves serves. */
  slavesJson(): string {
    const slaves = this.#hostnames.map((hostname, i) => ({
      id: `a1b2c3d4-0000-4000-8000-00000000000${i % 10}-S${i}`,
      hostname,
      port: 5051,
      attributes: {},
      pid: `slave(1)@10.0.0.${i + 1}:5051`,
      registered_time: 1700000000.5 + i,
      resources: { disk: 10000, mem: 15000, gpus: 0, cpus: 8, ports: '[31000-32000]' },
      used_resources: { disk: 0, mem: 0, gpus: 0, cpus: 0 },
      offered_resources: { disk: 0, mem: 0, gpus: 0, cpus: 0 },
      reserved_resources: {},
      unreserved_resources: { disk: 10000, mem: 15000, gpus: 0, cpus: 8, ports: '[31000-32000]' },
      active: true,
      deactivated: false,
      version: '1.11.0',
      capabilities: ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'],
    }));
    return JSON.stringify({ slaves, recovered_slaves: [] });
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let body = '';
    if (path !== '/slaves' && path !== '/master/slaves') {
      status = 404;
      headers['content-type'] = 'text/plain';
    } else if (this.#mode.kind === 'fail') {
      status = this.#mode.status;
      headers['content-type'] = 'text/plain';
      body = 'Service Unavailable';
    } else if (this.#mode.kind === 'garbage') {
      headers['content-type'] = 'text/html';
      body = '<html>not json';
    } else if (this.#mode.kind === 'redirect') {
      status = 307;
      headers.location = this.#mode.location;
    } else {
      body = this.slavesJson();
    }
    this.calls.push({ method, path, status });
    res.writeHead(status, headers);
    res.end(body);
  }
}
