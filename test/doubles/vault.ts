// A Vault server on 127.0.0.1 (port 0), over HTTP or over TLS with a CA made at test time
// (optionally requiring a client certificate, as a listener with
// tls_require_and_verify_client_cert does), that speaks the parts of Vault's HTTP API the
// executor uses (docs/vault-and-aws.md). Shapes follow Vault's docs and source: every answer is the
// logical.Response envelope (request_id, lease_id, renewable, lease_duration, data, wrap_info,
// warnings, auth); errors are sdk/logical RespondError's `{"errors":[...]}` plus json.Encoder's
// newline: 403 `["permission denied"]` for a missing or unknown token (checked before anything
// else but a login), 405 `["unsupported operation"]` for a method the path does not take, 404
// `[]` for a path with no secret, 400 `["invalid username or password"]` for a bad login, and a
// 204 with no body for revocations. A KV v2 mount read without `data/` is a 404 carrying the kv
// plugin's "Invalid path for a versioned K/V secrets engine" warning. X-Vault-Namespace is
// prepended to the request path, as Vault Enterprise does.
// As real Vault, the userpass login ignores a ttl in its body (with the "unrecognized parameters"
// warning): the token gets the user's token_ttl (768h unless configured), capped at its max TTL,
// and a renewal (vault-tokens.ts) is honoured up to that max. Tokens and the AWS engine
// (vault-aws.ts) live in their own files.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsEngine, type AwsLease, type AwsRoleOptions } from './vault-aws';
import { makeTestCertificates, type TestCertificates } from './vault-tls';
import { envelope, errors, TokenStore, VAULT_MAX_TTL_SEC, type Answer } from './vault-tokens';

export interface VaultCall {
  method: string;
  /** After /v1/, decoded, without the namespace. */
  path: string;
  status: number;
  token?: string;
  namespace?: string;
  /** The X-Vault-Request header the Go SDK always sends. */
  vaultRequest?: string;
  /** The parsed JSON body, when there was one. */
  body?: Record<string, unknown>;
}

export interface VaultDoubleOptions {
  /** Serve HTTPS with a server certificate for 127.0.0.1/localhost signed by a fresh test CA. */
  tls?: boolean;
  /** With tls: refuse clients without a certificate signed by the test CA. */
  requireClientCert?: boolean;
  /** The token_ttl of userpass users (the TTL of a login's token); 768h by default. */
  tokenTtlSec?: number;
  /** The max TTL of userpass tokens (the mount's max_lease_ttl); 768h by default. */
  tokenMaxTtlSec?: number;
}

const KV2_WARNING = "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";

export class VaultDouble {
  readonly calls: VaultCall[] = [];
  /** Successful userpass logins. */
  loginCount = 0;
  readonly #options: VaultDoubleOptions;
  #server!: http.Server;
  #port = 0;
  #tlsDir?: string;
  #certs?: TestCertificates;
  readonly #tokenStore = new TokenStore();
  readonly #aws = new AwsEngine();
  readonly #users = new Map<string, string>();
  readonly #kv1 = new Map<string, Record<string, unknown>>();
  readonly #kv2 = new Map<string, { data: Record<string, unknown>; version: number; created: string }>();
  readonly #kv2Mounts = new Set<string>();
  readonly #forbidden = new Set<string>();
  #failLeft = 0;
  #failStatus = 503;

  private constructor(options: VaultDoubleOptions) {
    this.#options = options;
    this.#tokenStore.onLeaseEnded = (lease) => this.#aws.endWithToken(lease);
  }

  static async start(options: VaultDoubleOptions = {}): Promise<VaultDouble> {
    const double = new VaultDouble(options);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => double.#onRequest(req, res);
    if (options.tls) {
      double.#tlsDir = await mkdtemp(join(tmpdir(), 'vault-double-tls-'));
      const certs = await makeTestCertificates(double.#tlsDir);
      double.#certs = certs;
      const clientAuth = options.requireClientCert ? { ca: certs.caPem, requestCert: true, rejectUnauthorized: true } : {};
      double.#server = https.createServer({ key: certs.serverKey, cert: certs.serverCert, ...clientAuth }, handler);
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
  /** The test certificates (VAULT_CACERT, VAULT_CLIENT_CERT ...); TLS doubles only. */
  get certs(): TestCertificates {
    if (!this.#certs) throw new Error('VaultDouble: not started with tls');
    return this.#certs;
  }
  get caFile(): string { return this.certs.caFile; }

  addToken(token: string, ttlSec = VAULT_MAX_TTL_SEC): void { this.#tokenStore.add(token, ttlSec); }
  revokeToken(token: string): void { this.#tokenStore.revoke(token); }
  /** Live tokens, including those issued by logins. */
  get tokens(): string[] { return this.#tokenStore.ids; }
  /** Every token ever issued or added, revoked since or not (for leak checks). */
  get issuedTokens(): string[] { return [...this.#tokenStore.issued]; }
  /** Tokens revoked (revoke-self, revokeToken, or expired), in order. */
  get revokedTokens(): string[] { return [...this.#tokenStore.revoked]; }
  /** The TTL of the token's last grant (its login or its last renewal), in seconds. */
  tokenTtl(token: string): number | undefined { return this.#tokenStore.live(token)?.ttlSec; }
  addUser(username: string, password: string): void { this.#users.set(username.toLowerCase(), password); }
  /** A KV v1 secret at `path` (with any namespace prefix, e.g. `team-a/secret/db`). */
  putKv1(path: string, data: Record<string, unknown>): void { this.#kv1.set(path, data); }
  /** A KV v2 secret, read at `<mount>/data/<name>`. */
  putKv2(mount: string, name: string, data: Record<string, unknown>): void {
    this.#kv2Mounts.add(mount);
    const previous = this.#kv2.get(`${mount}/${name}`);
    this.#kv2.set(`${mount}/${name}`, { data, version: (previous?.version ?? 0) + 1, created: new Date().toISOString() });
  }
  /** A role of the AWS secrets engine mounted at aws/. */
  addAwsRole(name: string, options: AwsRoleOptions = {}): void { this.#aws.addRole(name, options); }
  /** Every AWS credentials lease issued, in order. */
  get awsLeases(): AwsLease[] { return this.#aws.leases; }
  /** Every AWS key and session token issued (for leak checks). */
  get awsSecrets(): string[] { return this.#aws.secrets; }
  /** Valid tokens get 403 on this path too (an ACL without it), whatever the method. */
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
      if (payload === undefined) { res.writeHead(status, { 'Cache-Control': 'no-store' }); res.end(); return; }
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(payload) + '\n');
    });
  }

  #route(call: VaultCall, underV1: boolean): Answer {
    if (this.#failLeft > 0) {
      this.#failLeft--;
      return errors(this.#failStatus, this.#failStatus === 503 ? 'Vault is sealed' : 'internal error');
    }
    if (!underV1 || call.path === '') return errors(404);
    const update = call.method === 'POST' || call.method === 'PUT';
    const login = /^auth\/userpass\/login\/([^/]+)$/.exec(call.path);
    if (login) return update ? this.#login(login[1].toLowerCase(), call.body) : errors(405, 'unsupported operation');
    const caller = this.#tokenStore.live(call.token);
    if (!caller) return errors(403, 'permission denied');
    if (this.#forbidden.has(this.#fullPath(call))) return errors(403, 'permission denied');
    const answer = this.#tokenStore.route(call.method, call.path, caller, call.body) ?? this.#aws.route(call.method, call.path, caller, call.body);
    if (answer) return answer;
    if (call.method !== 'GET') return errors(405, 'unsupported operation');
    return this.#readKv(call);
  }

  /** The path with the namespace prefixed, as Vault Enterprise routes it. */
  #fullPath(call: VaultCall): string {
    return call.namespace ? `${call.namespace.replace(/^\/+|\/+$/g, '')}/${call.path}` : call.path;
  }

  #readKv(call: VaultCall): Answer {
    const full = this.#fullPath(call);
    for (const mount of this.#kv2Mounts) {
      if (!full.startsWith(`${mount}/`)) continue;
      const rest = full.slice(mount.length + 1);
      if (!rest.startsWith('data/')) return [404, { ...envelope(null), warnings: [KV2_WARNING] }];
      const secret = this.#kv2.get(`${mount}/${rest.slice(5)}`);
      if (!secret) return errors(404);
      const metadata = { created_time: secret.created, custom_metadata: null, deletion_time: '', destroyed: false, version: secret.version };
      return [200, envelope({ data: secret.data, metadata })];
    }
    const data = this.#kv1.get(full);
    return data ? [200, { ...envelope(data), lease_duration: VAULT_MAX_TTL_SEC }] : errors(404);
  }

  #login(username: string, body: Record<string, unknown> | undefined): Answer {
    const expected = this.#users.get(username);
    if (typeof body?.password !== 'string' || body.password === '') return errors(400, 'missing password');
    if (expected === undefined || expected !== body.password) return errors(400, 'invalid username or password');
    const maxTtlSec = this.#options.tokenMaxTtlSec ?? VAULT_MAX_TTL_SEC;
    const ttlSec = Math.min(this.#options.tokenTtlSec ?? VAULT_MAX_TTL_SEC, maxTtlSec);
    const entry = this.#tokenStore.add(`hvs.${randomBytes(18).toString('base64url')}`, ttlSec, { username, maxTtlSec });
    this.loginCount++;
    const ignored = Object.keys(body).filter((k) => k !== 'password' && k !== 'username').sort();
    const warnings = ignored.length > 0 ? [`Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`] : null;
    return [200, envelope(null, { auth: this.#tokenStore.auth(entry), warnings })];
  }
}
