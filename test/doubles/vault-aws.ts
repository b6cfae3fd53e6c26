// The Vault double's AWS secrets engine (mounted at aws/) and the sys/leases endpoints, as Vault's
// HTTP API docs and source describe them. `aws/creds/<role>` (read or update) answers a lease
// (`aws/creds/<role>/<id>`, lease_duration, renewable) and data.access_key/secret_key/
// security_token; an unknown role is a 400 `Role "<name>" not found`. A lease belongs to the
// token that got it and ends with it. `sys/leases/renew` takes lease_id and increment (Vault's
// CalculateTTL, capped at the role's max from the issue time, with the cap warning); an unknown
// or expired lease is a 400 "lease not found", an STS one "lease is not renewable".
// `sys/leases/revoke` answers 204, also for a lease Vault does not know (revoking is idempotent);
// a missing lease_id is a 400 "lease_id must be specified".
import { randomBytes } from 'node:crypto';
import { cappedTtl, envelope, errors, secondsOf, VAULT_MAX_TTL_SEC, type Answer, type TokenEntry } from './vault-tokens';

export interface AwsRoleOptions {
  /** The lease's TTL when issued (aws/config/lease `lease`); Vault's default 768h. */
  leaseSec?: number;
  /** The lease's max TTL from its issue (aws/config/lease `lease_max`); Vault's default 768h. */
  maxLeaseSec?: number;
  /** iam_user: a renewable lease, no security token. assumed_role: STS, not renewable. */
  credentialType?: 'iam_user' | 'assumed_role';
}

export interface AwsLease {
  readonly id: string;
  readonly role: string;
  /** The token that got it. */
  readonly token: string;
  readonly issuedMs: number;
  readonly maxExpireMs: number;
  readonly renewable: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly securityToken: string | null;
  /** The TTL of its last grant (issue or renewal). */
  ttlSec: number;
  expireMs: number;
  /** Why it ended: revoked, its token ended, or expired. */
  ended?: 'revoked' | 'token ended' | 'expired';
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const keyId = (prefix: string): string => prefix + [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');

export class AwsEngine {
  readonly #roles = new Map<string, Required<AwsRoleOptions>>();
  readonly #leases = new Map<string, AwsLease>();

  addRole(name: string, options: AwsRoleOptions = {}): void {
    this.#roles.set(name, { leaseSec: VAULT_MAX_TTL_SEC, maxLeaseSec: VAULT_MAX_TTL_SEC, credentialType: 'iam_user', ...options });
  }

  /** Every lease issued, ended or not, in order. */
  get leases(): AwsLease[] { return [...this.#leases.values()]; }

  /** Every key and session token issued, for leak checks. */
  get secrets(): string[] {
    return this.leases.flatMap((l) => [l.accessKey, l.secretKey, ...(l.securityToken ? [l.securityToken] : [])]);
  }

  /** A lease whose token ended (Vault revokes a token's leases with it). */
  endWithToken(leaseId: string): void {
    const lease = this.#leases.get(leaseId);
    if (lease && !lease.ended) lease.ended = 'token ended';
  }

  /** aws/creds/<role> and sys/leases/{renew,revoke}; undefined for any other path. */
  route(method: string, path: string, caller: TokenEntry, body: Record<string, unknown> | undefined): Answer | undefined {
    const update = method === 'POST' || method === 'PUT';
    const creds = /^aws\/creds\/([^/]+)$/.exec(path);
    if (creds) return method === 'GET' || update ? this.#issue(creds[1], caller) : errors(405, 'unsupported operation');
    if (path === 'sys/leases/renew') return update ? this.#renew(body) : errors(405, 'unsupported operation');
    if (path === 'sys/leases/revoke') return update ? this.#revoke(body) : errors(405, 'unsupported operation');
    return undefined;
  }

  #issue(roleName: string, caller: TokenEntry): Answer {
    const role = this.#roles.get(roleName);
    if (!role) return errors(400, `Role "${roleName}" not found`);
    const now = Date.now();
    const sts = role.credentialType !== 'iam_user';
    const lease: AwsLease = {
      id: `aws/creds/${roleName}/${randomBytes(18).toString('base64url')}`, role: roleName, token: caller.id, issuedMs: now,
      maxExpireMs: now + role.maxLeaseSec * 1000, renewable: !sts, accessKey: keyId(sts ? 'ASIA' : 'AKIA'),
      secretKey: randomBytes(30).toString('base64'), securityToken: sts ? randomBytes(96).toString('base64') : null,
      ttlSec: role.leaseSec, expireMs: now + role.leaseSec * 1000,
    };
    this.#leases.set(lease.id, lease);
    caller.leases.add(lease.id);
    return [200, envelope({ access_key: lease.accessKey, secret_key: lease.secretKey, security_token: lease.securityToken }, {
      lease_id: lease.id, renewable: lease.renewable, lease_duration: lease.ttlSec,
    })];
  }

  /** The lease when Vault still has it: not ended, not expired. */
  #live(id: string): AwsLease | undefined {
    const lease = this.#leases.get(id);
    if (lease && !lease.ended && Date.now() >= lease.expireMs) lease.ended = 'expired';
    return lease && !lease.ended ? lease : undefined;
  }

  #renew(body: Record<string, unknown> | undefined): Answer {
    const id = body?.lease_id;
    if (typeof id !== 'string' || id === '') return errors(400, 'lease_id must be specified');
    const lease = this.#live(id);
    if (!lease) return errors(400, 'lease not found');
    if (!lease.renewable) return errors(400, 'lease is not renewable');
    const incrementSec = secondsOf(body?.increment);
    if (body?.increment !== undefined && incrementSec === undefined) return errors(400, 'invalid increment');
    const role = this.#roles.get(lease.role);
    const { ttlSec, warnings } = cappedTtl(incrementSec, role?.leaseSec ?? VAULT_MAX_TTL_SEC, lease.maxExpireMs);
    lease.ttlSec = ttlSec;
    lease.expireMs = Date.now() + ttlSec * 1000;
    return [200, envelope(null, { lease_id: lease.id, renewable: true, lease_duration: ttlSec, warnings: warnings.length > 0 ? warnings : null })];
  }

  #revoke(body: Record<string, unknown> | undefined): Answer {
    const id = body?.lease_id;
    if (typeof id !== 'string' || id === '') return errors(400, 'lease_id must be specified');
    const lease = this.#live(id);
    if (lease) lease.ended = 'revoked';
    return [204, undefined];
  }
}
