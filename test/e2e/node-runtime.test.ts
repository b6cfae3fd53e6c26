// The built file starts node with the flags and glibc setting its shebang names (scripts/build.mjs):
// they hold the memory budget under a log flood, so a shebang that lost them, or a harness that
// ran the file some other way, would make every memory figure in BENCHMARKS.md a lie.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXECUTOR, ExecutorProcess } from './harness';

function shebang(): { env: string[]; flags: string[] } {
  const first = readFileSync(EXECUTOR, 'utf8').split('\n')[0];
  const m = /^#!\/usr\/bin\/env -S (.*)$/.exec(first);
  assert.ok(m, `the bundle's first line is not an env -S shebang: ${first}`);
  const words = m[1].split(' ');
  const node = words.indexOf('node');
  assert.ok(node >= 0, first);
  return { env: words.slice(0, node), flags: words.slice(node + 1) };
}

test('the bundle\'s shebang bounds the young generation and sets glibc\'s mmap threshold', () => {
  const { env, flags } = shebang();
  assert.ok(flags.includes('--max-semi-space-size=1'), flags.join(' '));
  assert.ok(env.some((e) => e.startsWith('MALLOC_MMAP_THRESHOLD_=')), env.join(' '));
});

test('the executor runs with the shebang\'s flags and environment, and logs the flags', async () => {
  const { env, flags } = shebang();
  // No agent to subscribe to: the executor retries, which leaves time to look at it.
  const run = new ExecutorProcess({
    MESOS_AGENT_ENDPOINT: '127.0.0.1:1', MESOS_FRAMEWORK_ID: 'f', MESOS_EXECUTOR_ID: 'e', MESOS_DIRECTORY: '/tmp', MESOS_CHECKPOINT: '1',
    MESOS_RECOVERY_TIMEOUT: '30secs',
  });
  try {
    for (let i = 0; i < 100 && !run.output.includes('starting'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(run.output, new RegExp(`nodeFlags="${flags.join(' ')}"`));
    const environ = readFileSync(`/proc/${run.child.pid}/environ`, 'utf8').split('\0');
    for (const assignment of env) assert.ok(environ.includes(assignment), `${assignment} not in the executor's environment`);
  } finally {
    run.kill();
    await run.waitForExit();
  }
});

test('the bundle is Latin-1 only, so V8 holds its source at one byte a character', () => {
  // A single character beyond U+00FF (a `μ` in a regular expression did it once) turns the
  // whole source into a two-byte string: about 0.15 MB more in every executor.
  const wide = [...readFileSync(EXECUTOR, 'utf8')].filter((c) => c.charCodeAt(0) > 0xff);
  assert.deepEqual([...new Set(wide)], []);
});
