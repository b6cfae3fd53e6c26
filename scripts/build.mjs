// Bundles the executor into ONE file: the Mesos agent (or the wrapper script) copies and runs it,
// and every host runs one per task, so it must start fast and carry nothing it does not use.
import { build } from 'esbuild';
import { readFileSync, chmodSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)));
const outfile = 'dist/sidecar-executor.js';
await build({
  entryPoints: ['src/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: false, // readable stack traces in sandbox logs; minifying saves only ~0.1 MB (BENCHMARKS.md)
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
