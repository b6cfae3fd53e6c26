// doctor's checks of the host alone, as pure functions: node and its memory flags, the settings line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNode, checkSettings } from '../../src/doctor/local-checks';

const SHEBANG = { env: ['MALLOC_MMAP_THRESHOLD_=32768'], flags: ['--max-semi-space-size=1', '--no-sparkplug', '--single-threaded'] };

test('node: 20 or later, with the shebang\'s flags and environment in effect', () => {
  const inEffect = checkNode('v20.19.0', SHEBANG.flags, { MALLOC_MMAP_THRESHOLD_: '32768' }, SHEBANG);
  assert.deepEqual(inEffect, { status: 'ok', check: 'node', text: 'v20.19.0, memory flags in effect (--max-semi-space-size=1 --no-sparkplug --single-threaded MALLOC_MMAP_THRESHOLD_=32768)' });
  const bare = checkNode('v22.3.0', [], {}, SHEBANG);
  assert.equal(bare.status, 'warn');
  assert.match(bare.text, /^v22\.3\.0, without --max-semi-space-size=1 --no-sparkplug --single-threaded MALLOC_MMAP_THRESHOLD_=32768: run the file itself/);
  const noMalloc = checkNode('v20.19.0', SHEBANG.flags, { MALLOC_MMAP_THRESHOLD_: '65536' }, SHEBANG);
  assert.match(noMalloc.text, /without MALLOC_MMAP_THRESHOLD_=32768:/);
  assert.deepEqual(checkNode('v18.20.4', SHEBANG.flags, {}, SHEBANG), { status: 'FAIL', check: 'node', text: 'v18.20.4: the executor needs node 20 or later' });
  assert.equal(checkNode('v20.19.0', [], {}, undefined).status, 'warn', 'outside the bundle the flags are unknown');
});

test('settings: one ok line naming the variables set, or one FAIL per bad value; a bare fallback name is named as such', () => {
  const good = checkSettings({ SIDECAR_URL: 'http://sidecar:7777/state.json', EXECUTOR_DEBUG: 'true' }, 'host-a');
  assert.deepEqual(good.findings, [{ status: 'ok', check: 'settings', text: '29 parsed; set: SIDECAR_URL, EXECUTOR_DEBUG' }]);
  assert.equal(good.settings.sidecarUrl, 'http://sidecar:7777/state.json');
  assert.equal(good.badVariable('SidecarUrl'), undefined);
  const bad = checkSettings({ SYSLOG_ADDR: 'syslog', EXECUTOR_LOG_FORMAT: 'xml' }, 'host-a');
  assert.deepEqual(bad.findings.map((f) => `${f.status} ${f.text}`), [
    'FAIL SYSLOG_ADDR="syslog" is not valid: expected host:port',
    'FAIL EXECUTOR_LOG_FORMAT="xml" is not valid: expected text or json',
  ]);
  assert.equal(bad.badVariable('SyslogAddr'), 'SYSLOG_ADDR');
  assert.equal(checkSettings({}, 'h').findings[0]!.text, '29 parsed; all at their defaults');
});
