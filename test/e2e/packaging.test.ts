// The release artifacts (`npm run package`): what each holds, and that each, once installed,
// runs. The real `dpkg -i` into /opt/mesos is CI's (scripts/check-install.sh); here the .deb is
// unpacked into a folder and the npm tarball installed under a prefix, so a test run installs
// nothing on the machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const dist = (name: string): string => join(ROOT, 'dist', name);
const run = (cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
let work = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sce-packaging-'));
  run('node', [join(ROOT, 'scripts', 'package.mjs')], { cwd: ROOT });
});
after(() => rmSync(work, { recursive: true, force: true }));

const BUILD_ID = new RegExp(`^${version.replace(/\./g, '\\.')} \\([0-9a-f]{7,}\\+?\\)\\n$`);

test('the release tarball holds the executor, executor.sh, README and LICENSE', () => {
  const listing = run('tar', ['tzvf', dist(`sidecar-executor-${version}.tar.gz`)]);
  for (const file of ['sidecar-executor', 'sidecar-executor-tools.js', 'executor.sh', 'README.md', 'LICENSE']) {
    assert.match(listing, new RegExp(`sidecar-executor-${version.replace(/\./g, '\\.')}/${file.replace('.', '\\.')}\\n`), listing);
  }
  assert.match(listing, /^-rwxr-xr-x root\/root .* sidecar-executor-[\d.]+\/sidecar-executor$/m);
  assert.match(listing, /sidecar-executor-[\d.]+\/docs\/faults\.md$/m, 'the docs the README links');
});

test('the .deb installs /opt/mesos/sidecar-executor and /opt/mesos/executor.sh, depends on nodejs >= 20, and the unpacked executor runs', () => {
  const deb = dist(`sidecar-executor_${version}_all.deb`);
  assert.match(run('dpkg-deb', ['-f', deb, 'Depends']), /nodejs \(>= 20\)/);
  assert.equal(run('dpkg-deb', ['-f', deb, 'Version']).trim(), version);
  const root = join(work, 'deb-root');
  run('dpkg-deb', ['-x', deb, root]);
  for (const file of ['sidecar-executor', 'executor.sh']) assert.equal(statSync(join(root, 'opt', 'mesos', file)).mode & 0o777, 0o755, file);
  assert.match(run(join(root, 'opt', 'mesos', 'sidecar-executor'), ['--version']), BUILD_ID);
  // The operator's commands come from the tools file installed beside it.
  const dryRun = JSON.parse(run(join(root, 'opt', 'mesos', 'sidecar-executor'), ['local', '--dry-run', join(ROOT, 'examples', 'hello-task.json')])) as { name: string };
  assert.match(dryRun.name, /^mesos-/);
  assert.equal(readFileSync(join(root, 'opt', 'mesos', 'sidecar-executor'), 'utf8'), readFileSync(dist('sidecar-executor.js'), 'utf8'));
});

test('the npm tarball includes the bundle: installed with npm, the command runs', () => {
  const listing = run('tar', ['tzf', dist(`sidecar-executor-${version}.tgz`)]);
  assert.match(listing, /^package\/dist\/sidecar-executor\.js$/m);
  assert.match(listing, /^package\/bin\/sidecar-executor$/m);
  assert.match(listing, /^package\/dist\/sidecar-executor-tools\.js$/m);
  assert.match(listing, /^package\/LICENSE$/m);
  assert.match(listing, /^package\/docs\/status-updates\.md$/m);
  const prefix = join(work, 'npm-prefix');
  run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', dist(`sidecar-executor-${version}.tgz`)]);
  assert.match(run(join(prefix, 'bin', 'sidecar-executor'), ['--version']), BUILD_ID);
});
