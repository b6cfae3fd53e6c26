// Runs every compiled test file with node's own test runner. Unit tests are fast; the e2e tests
// talk to a real dockerd, so they run a few files at a time.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}
const filter = process.argv[2];
const files = find('build/test').filter((f) => !filter || f.includes(filter)).sort();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=3', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
