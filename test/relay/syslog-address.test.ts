import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSyslogAddress } from '../../src/relay/syslog-address';

test('host:port, IPv4, bracketed IPv6 and an empty host', () => {
  assert.deepEqual(parseSyslogAddress('127.0.0.1:514'), { host: '127.0.0.1', port: 514 });
  assert.deepEqual(parseSyslogAddress('logs.example.com:5140'), { host: 'logs.example.com', port: 5140 });
  assert.deepEqual(parseSyslogAddress('[::1]:514'), { host: '::1', port: 514 });
  assert.deepEqual(parseSyslogAddress('[fe80::1%eth0]:514'), { host: 'fe80::1%eth0', port: 514 });
  assert.deepEqual(parseSyslogAddress(':514'), { host: '127.0.0.1', port: 514 });
  assert.deepEqual(parseSyslogAddress(' localhost:1 '), { host: 'localhost', port: 1 });
});

test('anything else is refused, naming the value', () => {
  for (const bad of ['', 'localhost', '::1:514', 'host:0', 'host:65536', 'host:port', 'a b:514', '[::1]']) {
    assert.throws(() => parseSyslogAddress(bad), (err: Error) => err instanceof RangeError && err.message.includes(JSON.stringify(bad)), bad);
  }
});
