// Bundles the executor into ONE file: the Mesos agent (or the wrapper script) copies and runs it,
// and every host runs one per task, so it must start fast and carry nothing it does not use.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, chmodSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)));
// `--version` and the first log line say which build runs: `0.2.0 (1a2b3c4)`, `+` when the
// checkout had uncommitted changes; 'unknown' outside a git checkout (a source tarball).
function buildId() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `${version} (${commit}${dirty ? '+' : ''})`;
  } catch {
    return `${version} (unknown)`;
  }
}
const outfile = 'dist/sidecar-executor.js';
// What the shebang sets, so every way of starting the file (the agent via executor.sh,
// bin/sidecar-executor, the tests) runs the same. Each bounds memory under a log flood, measured
// with the relay bench (BENCHMARKS.md, 200k lines): 14.2 MB private without them, 9.8 MB with.
// - a young generation that never grows past 1 MB per semi-space: V8 would otherwise grow it to
//   the relay's garbage rate and keep the pages. Any heap-size flag makes node compile its
//   built-in modules from source (the code cache no longer matches): +8 ms start-up;
// - no Sparkplug baseline code, which took a second code page (~0.25 MB) once the flood's hot
//   functions were compiled; the optimizing compiler still runs;
// - no background compiler or GC threads, whose malloc arenas kept ~2 MB after a flood;
// - glibc hands 32 KiB and larger blocks back at once: the optimizing compiler's scratch memory
//   otherwise stays in the heap, fragmented (~0.4 MB).
export const NODE_FLAGS = ['--max-semi-space-size=1', '--no-sparkplug', '--single-threaded'];
export const NODE_ENV = ['MALLOC_MMAP_THRESHOLD_=32768'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // V8 keeps the script's source in every executor's heap: whitespace and syntax minification
  // cut the bundle by a quarter and 0.11 MB private per executor with a task (measured with 10).
  // Identifiers are kept, so a stack trace in the sandbox logs still names its functions.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: false,
  legalComments: 'none',
  // `doctor` compares the flags it runs with to these: a way of starting the file that loses them
  // (`node dist/sidecar-executor.js`) is worth a warning.
  define: { __VERSION__: JSON.stringify(buildId()), __SHEBANG__: JSON.stringify({ env: NODE_ENV, flags: NODE_FLAGS }) },
  logLevel: 'warning',
};
// The executor: what the agent runs, one per task.
await build({ ...common, entryPoints: ['src/main.ts'], outfile, banner: { js: `#!/usr/bin/env -S ${[...NODE_ENV, 'node', ...NODE_FLAGS].join(' ')}` } });
chmodSync(outfile, 0o755);
// The operator's commands (`local`, `doctor`) in a file of their own beside it: an executor never
// runs them, and code in the executor's file costs every executor memory even when it never runs
// (measured: `local` and `doctor` in the same file, loaded on demand, added 0.6 MB private at the
// bench's 2 s mark, from the lazy-init wrappers the bundler puts around the code they share).
await build({ ...common, entryPoints: ['src/tools.ts'], outfile: 'dist/sidecar-executor-tools.js' });
