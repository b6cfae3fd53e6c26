// `npm run package`: the release artifacts, into dist/, from a built checkout (`npm run build`
// first, which the npm script does):
// - sidecar-executor-<version>.tar.gz: the executor (and the file of its operator commands),
//   executor.sh, README, docs/ and LICENSE, as the Go project's release tarball holds them;
// - sidecar-executor_<version>_all.deb: /opt/mesos/sidecar-executor, its tools file beside it,
//   and /opt/mesos/executor.sh.
//   dpkg unpacks each file beside the old one and renames it into place, so an upgrade under
//   running tasks replaces both atomically (running tasks run their own sandbox copies anyway);
// - sidecar-executor-<version>.tgz (`npm pack`): `npm install -g` of it gives the command.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { version, description } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bundle = join(root, 'dist', 'sidecar-executor.js');
// The operator's commands (`local`, `doctor`), beside the executor wherever it is installed.
const tools = join(root, 'dist', 'sidecar-executor-tools.js');
for (const file of [bundle, tools]) if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });

/** Copies `from` to `to`, creating its folder, with `mode`. */
function place(from, to, mode) {
  mkdirSync(join(to, '..'), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

const work = mkdtempSync(join(tmpdir(), 'sidecar-executor-package-'));
try {
  // The tarball: one folder named for the release.
  const name = `sidecar-executor-${version}`;
  const tree = join(work, 'tar', name);
  place(bundle, join(tree, 'sidecar-executor'), 0o755);
  place(tools, join(tree, 'sidecar-executor-tools.js'), 0o644);
  place(join(root, 'scripts', 'executor.sh'), join(tree, 'executor.sh'), 0o755);
  place(join(root, 'README.md'), join(tree, 'README.md'), 0o644);
  place(join(root, 'LICENSE'), join(tree, 'LICENSE'), 0o644);
  // The README's links lead into docs/.
  for (const doc of readdirSync(join(root, 'docs'))) place(join(root, 'docs', doc), join(tree, 'docs', doc), 0o644);
  const tarball = join(root, 'dist', `${name}.tar.gz`);
  run('tar', ['-C', join(work, 'tar'), '--owner=0', '--group=0', '-czf', tarball, name]);

  // The .deb, by Debian's conventions: control, copyright, owned by root.
  const deb = join(work, 'deb');
  place(bundle, join(deb, 'opt', 'mesos', 'sidecar-executor'), 0o755);
  place(tools, join(deb, 'opt', 'mesos', 'sidecar-executor-tools.js'), 0o644);
  place(join(root, 'scripts', 'executor.sh'), join(deb, 'opt', 'mesos', 'executor.sh'), 0o755);
  place(join(root, 'LICENSE'), join(deb, 'usr', 'share', 'doc', 'sidecar-executor', 'copyright'), 0o644);
  mkdirSync(join(deb, 'DEBIAN'), { recursive: true });
  const installedKb = Math.ceil(Number(run('du', ['-sk', '--exclude=DEBIAN', deb]).split('\t')[0]));
  writeFileSync(join(deb, 'DEBIAN', 'control'), [
    'Package: sidecar-executor',
    `Version: ${version}`,
    'Architecture: all',
    'Section: admin',
    'Priority: optional',
    'Maintainer: sidecar-executor maintainers <maintainers@sidecar-executor.invalid>',
    // The bundle's shebang runs `env -S ... node`: Node.js 20 or later on the agent's PATH.
    'Depends: nodejs (>= 20), coreutils (>= 8.30)',
    // A Docker engine, usually on the host; DOCKER_HOST may point elsewhere.
    'Recommends: docker.io | docker-ce',
    `Installed-Size: ${installedKb}`,
    `Description: ${description.split(';')[0]}`,
    ' A Mesos custom executor that runs each task as one Docker container, tied to',
    " Sidecar's health verdict. Install the task's executor command as",
    ' /opt/mesos/executor.sh; it runs /opt/mesos/sidecar-executor.',
    '',
  ].join('\n'));
  const debFile = join(root, 'dist', `sidecar-executor_${version}_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '--build', deb, debFile]);

  // npm pack: package.json `files` names what goes in (the bundle included).
  const packed = run('npm', ['pack', '--pack-destination', join(root, 'dist'), '--loglevel=error'], { cwd: root }).trim().split('\n').pop();
  process.stdout.write(`${['dist/' + name + '.tar.gz', 'dist/' + `sidecar-executor_${version}_all.deb`, 'dist/' + packed].join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
