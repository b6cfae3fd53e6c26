// A Vault server on 127.0.0.1 (port 0), over HTTP or over TLS with a CA made at test time, that
// speaks the parts of Vault's HTTP API the executor uses (CONTRACT §8). Shapes follow Vault's
// docs and source: every answer is the logical.Response envelope (request_id, lease_id,
// renewable, lease_duration, data, wrap_info, warnings, auth); errors are sdk/logical
// RespondError's `{"errors":[...]}` plus json.Encoder's newline: 403 `["permission denied"]` for
// a missing or unknown token, 404 `[]` for a path with no secret, 400 `["invalid username or
// password"]` for a bad login. A KV v2 mount read without `data/` is a 404 carrying the kv
// plugin's "Invalid path for a versioned K/V secrets engine" warning. X-Vault-Namespace is
// prepended to the request path, as Vault Enterprise does.
// One deliberate difference: the userpass login honours `ttl` in the body, so tests can see the
// ttl the client asked for; real Vault's userpass ignores it (the user's token_ttl applies).
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseGoDuration } from '../../src/config/durations';

export interface VaultCall {
  method: string;
  /** After /v1/, decoded, without the namespace. */
  path: string;
  status: number;
  token?: string;
  namespace?: string;
  /** The X-Vault-Request header the Go SDK always sends. */
  vaultRequest?: string;
  /** The parsed JSON body of a POST. */
  body?: Record<string, unknown>;
}

export interface VaultDoubleOptions {
  /** Serve HTTPS with a server certificate for 127.0.0.1/localhost signed by a fresh test CA. */
  tls?: boolean;
}

interface TokenInfo { ttlSec: number; issuedMs: number; username?: string }

const DEFAULT_TOKEN_TTL_SEC = 2_764_800; // Vault's default max lease, 768h
const KV2_WARNING = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";

const run = promisify(execFile);

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl in a temp dir. */
async function makeTestCa(dir: string): Promise<{ caFile: string; key: Buffer; cert: Buffer }> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const p = (name: string): string => join(dir, name);
  await run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=sidecar-executor test Vault CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext')]);
  return { caFile: p('ca.pem'), key: await readFile(p('server.key')), cert: await readFile(p('server.pem')) };
}

export class VaultDouble {
  readonly calls: VaultCall[] = [];
  /** Successful userpass logins. */
  loginCount = 0;
  #server!: http.Server;
  #port = 0;
  #tlsDir?: string;
  #caFile?: string;
  readonly #tokens = new Map<string, TokenInfo>();
  readonly #users = new Map<string, string>();
  readonly #kv1 = new Map<string, Record<string, unknown>>();
  readonly #kv2 = new Map<string, { data: Record<string, unknown>; version: number; created: string }>();
  readonly #kv2Mounts = new Set<string>();
  readonly #forbidden = new Set<string>();
  #failLeft = 0;
  #failStatus = 503;

  private constructor() {}

  static async start(options: VaultDoubleOptions = {}): Promise<VaultDouble> {
    const double = new VaultDouble();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => double.#onRequest(req, res);
    if (options.tls) {
      double.#tlsDir = await mkdtemp(join(tmpdir(), 'vault-double-tls-'));
      const { caFile, key, cert } = await makeTestCa(double.#tlsDir);
      double.#caFile = caFile;
      double.#server = https.createServer({ key, cert }, handler);
    } else {
      double.#server = http.createServer(handler);
    }
    await new Promise<void>((resolve) => double.#server.listen(0, '127.0.0.1', resolve));
    double.#port = (double.#server.address() as AddressInfo).port;
    return double;
  }

  /** VAULT_ADDR for this double. */
  get addr(): string { return `${this.#tlsDir ? 'https' : 'http'}://127.0.0.1:${this.#port}`; }
  get port(): number { return this.#port; }
  /** The test CA's PEM file (VAULT_CACERT); TLS doubles only. */
  get caFile(): string {
    if (!this.#caFile) throw new Error('VaultDouble: not started with tls');
    return this.#caFile;
  }

  addToken(token: string, ttlSec = DEFAULT_TOKEN_TTL_SEC): void { this.#tokens.set(token, { ttlSec, issuedMs: Date.now() }); }
  revokeToken(token: string): void { this.#tokens.delete(token); }
  /** Tokens the double knows, including those issued by logins (for leak checks). */
  get tokens(): string[] { return [...this.#tokens.keys()]; }
  tokenTtl(token: string): number | undefined { return this.#tokens.get(token)?.ttlSec; }
  addUser(username: string, password: string): void { this.#users.set(username.toLowerCase(), password); }
  /** A KV v1 secret at `path` (with any namespace prefix, e.g. `team-a/secret/db`). */
  putKv1(path: string, data: Record<string, unknown>): void { this.#kv1.set(path, data); }
  /** A KV v2 secret, read at `<mount>/data/<name>`. */
  putKv2(mount: string, name: string, data: Record<string, unknown>): void {
    this.#kv2Mounts.add(mount);
    const previous = this.#kv2.get(`${mount}/${name}`);
    this.#kv2.set(`${mount}/${name}`, { data, version: (previous?.version ?? 0) + 1, created: new Date().toISOString() });
  }
  /** Valid tokens get 403 on this path too (an ACL without read on it). */
  forbid(path: string): void { this.#forbidden.add(path); }
  /** The next `count` requests, whatever they are, fail with `status` (503: sealed). */
  failNext(count: number, status = 503): void { this.#failLeft = count; this.#failStatus = status; }
  callsTo(path: string): VaultCall[] { return this.calls.filter((c) => c.path === path); }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#tlsDir) await rm(this.#tlsDir, { recursive: true, force: true });
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try { body = text ? JSON.parse(text) as Record<string, unknown> : undefined; } catch { body = undefined; }
      const header = (name: string): string | undefined => { const v = req.headers[name]; return Array.isArray(v) ? v[0] : v; };
      const call: VaultCall = {
        method: req.method ?? 'GET', path: '', status: 0, token: header('x-vault-token'),
        namespace: header('x-vault-namespace'), vaultRequest: header('x-vault-request'), body,
      };
      const pathname = new URL(req.url ?? '/', 'http://vault').pathname;
      call.path = pathname.startsWith('/v1/') ? decodeURIComponent(pathname.slice(4)) : pathname;
      const [status, payload] = this.#route(call, pathname.startsWith('/v1/'));
      call.status = status;
      this.calls.push(call);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(payload) + '\n');
    });
  }

  #route(call: VaultCall, underV1: boolean): [number, unknown] {
    if (this.#failLeft > 0) {
      this.#failLeft--;
      return [this.#failStatus, { errors: [this.#failStatus === 503 ? 'Vault is sealed' : 'internal error'] }];
    }
    if (!underV1 || call.path === '') return [404, { errors: [] }];
    const login = /^auth\/userpass\/login\/([^/]+)$/.exec(call.path);
    if (login && call.method === 'POST') return this.#login(login[1].toLowerCase(), call.body);
    if (call.method !== 'GET') return [405, { errors: ['unsupported operation'] }];
    const info = call.token === undefined ? undefined : this.#live(call.token);
    if (!info || call.token === undefined) return [403, { errors: ['permission denied'] }];
    if (call.path === 'auth/token/lookup-self') return [200, envelope(this.#lookupData(call.token, info))];
    const full = call.namespace ? `${call.namespace.replace(/^\/+|\/+$/g, '')}/${call.path}` : call.path;
    if (this.#forbidden.has(full)) return [403, { errors: ['permission denied'] }];
    for (const mount of this.#kv2Mounts) {
      if (!full.startsWith(`${mount}/`)) continue;
      const rest = full.slice(mount.length + 1);
      if (!rest.startsWith('data/')) return [404, { ...envelope(null), warnings: [KV2_WARNING] }];
      const secret = this.#kv2.get(`${mount}/${rest.slice(5)}`);
      if (!secret) return [404, { errors: [] }];
      const metadata = { created_time: secret.created, custom_metadata: null, deletion_time: '', destroyed: false, version: secret.version };
      return [200, envelope({ data: secret.data, metadata })];
    }
    const data = this.#kv1.get(full);
    return data ? [200, { ...envelope(data), lease_duration: DEFAULT_TOKEN_TTL_SEC }] : [404, { errors: [] }];
  }

  #login(username: string, body: Record<string, unknown> | undefined): [number, unknown] {
    const expected = this.#users.get(username);
    if (typeof body?.password !== 'string' || body.password === '') return [400, { errors: ['missing password'] }];
    if (expected === undefined || expected !== body.password) return [400, { errors: ['invalid username or password'] }];
    const ttlSec = ttlOf(body.ttl) ?? DEFAULT_TOKEN_TTL_SEC;
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    this.#tokens.set(token, { ttlSec, issuedMs: Date.now(), username });
    this.loginCount++;
    return [200, {
      ...envelope(null),
      auth: {
        client_token: token, accessor: randomBytes(12).toString('base64url'), policies: ['default'], token_policies: ['default'],
        metadata: { username }, lease_duration: ttlSec, renewable: true, entity_id: randomUUID(), token_type: 'service',
        orphan: true, mfa_requirement: null, num_uses: 0,
      },
    }];
  }

  #live(token: string): TokenInfo | undefined {
    const info = this.#tokens.get(token);
    if (info && Date.now() - info.issuedMs > info.ttlSec * 1000) { this.#tokens.delete(token); return undefined; }
    return info;
  }

  #lookupData(token: string, info: TokenInfo): Record<string, unknown> {
    const remaining = Math.max(0, info.ttlSec - Math.floor((Date.now() - info.issuedMs) / 1000));
    return {
      accessor: 'accessor', creation_time: Math.floor(info.issuedMs / 1000), creation_ttl: info.ttlSec,
      display_name: info.username ? `userpass-${info.username}` : 'token', entity_id: '', expire_time: new Date(info.issuedMs + info.ttlSec * 1000).toISOString(),
      explicit_max_ttl: 0, id: token, issue_time: new Date(info.issuedMs).toISOString(), meta: info.username ? { username: info.username } : null,
      num_uses: 0, orphan: true, path: info.username ? `auth/userpass/login/${info.username}` : 'auth/token/create',
      policies: ['default'], renewable: true, ttl: remaining, type: 'service',
    };
  }
}

function envelope(data: unknown): Record<string, unknown> {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null };
}

/** Vault's duration fields: seconds as a number or digits, or a Go duration (`86400s`, `24h`). */
function ttlOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseGoDuration(value);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}
