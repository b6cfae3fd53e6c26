// The Vault double's token store: tokens with a TTL and a max TTL counted from their creation, as
// Vault's token store keeps them, and the auth/token endpoints the executor uses (renew, renew-self,
// lookup, lookup-self, revoke-self). TTL arithmetic is Vault's framework.CalculateTTL: a renewal
// sets the TTL to `increment` (else the token's own TTL) from now, capped at what is left of the
// max TTL, with Vault's "TTL value is capped accordingly" warning.
import { randomBytes, randomUUID } from 'node:crypto';
import { formatGoDuration, parseGoDuration } from '../../src/config/durations';

/** Vault's default system max_lease_ttl (and default_lease_ttl): 768h. */
export const VAULT_MAX_TTL_SEC = 2_764_800;

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly createdMs: number;
  /** The TTL of the creation, as lookup's creation_ttl reports it. */
  readonly creationTtlSec: number;
  readonly maxExpireMs: number;
  readonly username?: string;
  /** The TTL of its last grant (creation or renewal). */
  ttlSec: number;
  expireMs: number;
  lastRenewalMs?: number;
  /** Lease ids this token got: Vault revokes them with it. */
  readonly leases: Set<string>;
}

export type Answer = [status: number, payload: unknown];

export function envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, ...extra };
}

export const errors = (status: number, ...messages: string[]): Answer => [status, { errors: messages }];

/** Vault's duration parameters: seconds as a number or digits, or a Go duration (`86400s`, `24h`). */
export function secondsOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Math.floor(value);
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseGoDuration(value);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/**
 * framework.CalculateTTL: `increment` (else `fallbackSec`) from now, capped at what is left
 * before `maxExpireMs` (creation or issue time plus the max TTL). Returns the TTL and the cap
 * warning when it applied.
 */
export function cappedTtl(incrementSec: number | undefined, fallbackSec: number, maxExpireMs: number, nowMs = Date.now()): { ttlSec: number; warnings: string[] } {
  const wanted = incrementSec !== undefined && incrementSec > 0 ? incrementSec : fallbackSec;
  const left = Math.floor((maxExpireMs - nowMs) / 1000);
  if (left >= wanted) return { ttlSec: wanted, warnings: [] };
  return {
    ttlSec: Math.max(0, left),
    warnings: [`TTL of "${formatGoDuration(wanted * 1000)}" exceeded the effective max_ttl of "${formatGoDuration(Math.max(0, left) * 1000)}"; TTL value is capped accordingly`],
  };
}

export class TokenStore {
  readonly #tokens = new Map<string, TokenEntry>();
  /** Every token ever issued or added, revoked or not, for leak checks. */
  readonly issued: string[] = [];
  /** Revoked tokens, in order. */
  readonly revoked: string[] = [];
  /** Called with each lease of a token Vault revokes (revoke-self, or its TTL ran out). */
  onLeaseEnded: (leaseId: string) => void = () => undefined;

  add(id: string, ttlSec: number, options: { username?: string; maxTtlSec?: number } = {}): TokenEntry {
    const now = Date.now();
    const entry: TokenEntry = {
      id, accessor: randomBytes(12).toString('base64url'), createdMs: now, creationTtlSec: ttlSec, ttlSec, expireMs: now + ttlSec * 1000,
      maxExpireMs: now + (options.maxTtlSec ?? VAULT_MAX_TTL_SEC) * 1000, username: options.username, leases: new Set(),
    };
    this.#tokens.set(id, entry);
    this.issued.push(id);
    return entry;
  }

  /** The token when it exists and has not expired (an expired one is revoked on the way). */
  live(id: string | undefined): TokenEntry | undefined {
    const entry = id === undefined ? undefined : this.#tokens.get(id);
    if (entry && Date.now() >= entry.expireMs) { this.revoke(entry.id); return undefined; }
    return entry;
  }

  get ids(): string[] { return [...this.#tokens.keys()]; }

  revoke(id: string): void {
    const entry = this.#tokens.get(id);
    if (!entry) return;
    this.#tokens.delete(id);
    this.revoked.push(id);
    for (const lease of entry.leases) this.onLeaseEnded(lease);
  }

  /** The auth block of a login or a renewal. */
  auth(entry: TokenEntry): Record<string, unknown> {
    return {
      client_token: entry.id, accessor: entry.accessor, policies: ['default'], token_policies: ['default'],
      metadata: entry.username ? { username: entry.username } : null, lease_duration: entry.ttlSec, renewable: true,
      entity_id: randomUUID(), token_type: 'service', orphan: true, mfa_requirement: null, num_uses: 0,
    };
  }

  /**
   * The auth/token endpoints, for a request whose client token is `caller` (already checked
   * live). Undefined for a path that is not one of them.
   */
  route(method: string, path: string, caller: TokenEntry, body: Record<string, unknown> | undefined): Answer | undefined {
    const update = method === 'POST' || method === 'PUT';
    switch (path) {
      case 'auth/token/lookup-self':
        return method === 'GET' ? [200, envelope(this.#lookupData(caller))] : errors(405, 'unsupported operation');
      case 'auth/token/lookup': {
        if (!update) return errors(405, 'unsupported operation');
        const id = typeof body?.token === 'string' && body.token !== '' ? body.token : caller.id;
        const entry = this.live(id);
        return entry ? [200, envelope(this.#lookupData(entry))] : errors(403, 'bad token');
      }
      case 'auth/token/renew': {
        if (!update) return errors(405, 'unsupported operation');
        if (typeof body?.token !== 'string' || body.token === '') return errors(400, 'missing token ID');
        const entry = this.live(body.token);
        return entry ? this.#renew(entry, body.increment) : errors(400, 'token not found');
      }
      case 'auth/token/renew-self':
        return update ? this.#renew(caller, body?.increment) : errors(405, 'unsupported operation');
      case 'auth/token/revoke-self':
        if (!update) return errors(405, 'unsupported operation');
        this.revoke(caller.id);
        return [204, undefined];
      default:
        return undefined;
    }
  }

  #renew(entry: TokenEntry, increment: unknown): Answer {
    const incrementSec = secondsOf(increment);
    if (increment !== undefined && incrementSec === undefined) return errors(400, 'invalid increment');
    const { ttlSec, warnings } = cappedTtl(incrementSec, entry.creationTtlSec, entry.maxExpireMs);
    const now = Date.now();
    entry.ttlSec = ttlSec;
    entry.expireMs = now + ttlSec * 1000;
    entry.lastRenewalMs = now;
    return [200, envelope(null, { auth: this.auth(entry), warnings: warnings.length > 0 ? warnings : null })];
  }

  #lookupData(entry: TokenEntry): Record<string, unknown> {
    const now = Date.now();
    return {
      accessor: entry.accessor, creation_time: Math.floor(entry.createdMs / 1000), creation_ttl: entry.creationTtlSec,
      display_name: entry.username ? `userpass-${entry.username}` : 'token', entity_id: '', expire_time: new Date(entry.expireMs).toISOString(),
      explicit_max_ttl: 0, id: entry.id, issue_time: new Date(entry.createdMs).toISOString(),
      last_renewal_time: entry.lastRenewalMs === undefined ? undefined : Math.floor(entry.lastRenewalMs / 1000),
      meta: entry.username ? { username: entry.username } : null, num_uses: 0, orphan: true,
      path: entry.username ? `auth/userpass/login/${entry.username}` : 'auth/token/create', policies: ['default'],
      renewable: true, ttl: Math.max(0, Math.floor((entry.expireMs - now) / 1000)), type: 'service',
    };
  }
}
