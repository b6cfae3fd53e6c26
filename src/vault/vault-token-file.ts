// The VAULT_TOKEN_FILE cache shared by every executor on the host (docs/vault-and-aws.md). Without
// it each task launch mints a new token, and a crash-looping job on many hosts floods Vault with
// tokens (the Go README's warning). The file holds the bare token, as the Go executor writes it, so
// both executors can share one file during a migration.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type CachedToken =
  | { readonly token: string }
  | { readonly token?: undefined; readonly why: string };

/**
 * The cached token when the file was written less than `maxAgeMs` before `nowMs` (its mtime is
 * the login time); otherwise why it cannot be used. Never throws: a bad cache means a login.
 */
export async function readCachedToken(file: string, maxAgeMs: number, nowMs: number): Promise<CachedToken> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { why: code === 'ENOENT' ? 'no cached token yet' : `cannot stat it (${code ?? 'error'})` };
  }
  const ageSec = Math.floor((nowMs - mtimeMs) / 1000);
  if (nowMs - mtimeMs >= maxAgeMs) return { why: `cached token is ${ageSec}s old, too close to its expiry` };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { why: `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const token = text.trim();
  return token === '' ? { why: 'the file is empty' } : { token };
}

/**
 * Writes the token with mode 0600, atomically: a temp file in the same directory, then rename.
 * Readers (other executors starting at the same moment) see the old token or the new one, never
 * a half-written file, and at no point is the token readable by anyone but the owner.
 */
export async function writeCachedToken(file: string, token: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    // The umask can only remove bits from 0600; chmod makes the mode exactly 0600 regardless.
    await handle.chmod(0o600);
    await handle.writeFile(token, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
