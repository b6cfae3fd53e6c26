// Bundles the executor into ONE file: the Mesos agent (or the wrapper script) copies and runs it,
// and every host runs one per task, so it must start fast and carry nothing it does not use.
import { build } from 'esbuild';
import { readFileSync, chmodSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)));
const outfile = 'dist/sidecar-executor.js';
// V8 flags in the shebang, so every way of starting the file (the agent via executor.sh,
// bin/sidecar-executor, the tests) gets them. Both bound memory under a log flood (BENCHMARKS.md):
// - a young generation that never grows past 1 MB per semi-space: the relay's garbage dies young,
//   and V8 would otherwise grow it to the allocation rate and keep the pages;
// - no background compiler/GC threads, whose malloc arenas keep ~2 MB after a flood's JIT and GC.
export const NODE_FLAGS = ['--max-semi-space-size=1', '--single-threaded'];
await build({
  entryPoints: ['src/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false, // readable stack traces in sandbox logs; minifying saves only ~0.1 MB (BENCHMARKS.md)
  legalComments: 'none',
  banner: { js: `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}` },
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
