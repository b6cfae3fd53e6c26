// Shared pieces of the Vault tests: a clock whose sleeps are recorded and instant (so retry
// tests are exact and fast), a config builder pointed at a double, and temp dirs.
import type { TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/clock';
import type { VaultConfig } from '../../src/vault/vault-config';

export interface RecordingClock extends Clock { readonly sleeps: number[] }

/** Real time for now() (token files have real mtimes); sleeps return at once and are recorded. */
export function recordingClock(): RecordingClock {
  const sleeps: number[] = [];
  return { sleeps, now: () => Date.now(), sleep: async (ms) => { sleeps.push(ms); } };
}

/** A config for a double at `addr`: small retry waits so even real sleeps would be short. */
export function configFor(addr: string, overrides: Partial<VaultConfig> = {}): VaultConfig {
  return {
    addr, ttlSec: 86_400, maxRetries: 2, skipVerify: false, timeoutMs: 5000,
    retryWaitMinMs: 10, retryWaitMaxMs: 20, ...overrides,
  };
}

export async function tempDir(t: TestContext, prefix = 'vault-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on: bound then released by a throwaway server. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
