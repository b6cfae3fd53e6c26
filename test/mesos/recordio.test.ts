import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordIODecoder, encodeRecord } from '../../src/mesos/recordio';

const records = (...payloads: string[]): Buffer => Buffer.concat(payloads.map((p) => encodeRecord(p)));

test('several records in one chunk', () => {
  const out = new RecordIODecoder().push(records('{"a":1}', '{"b":2}', 'x'));
  assert.deepEqual(out.map(String), ['{"a":1}', '{"b":2}', 'x']);
});

test('a record split at every possible byte', () => {
  const wire = records('{"type":"HEARTBEAT"}', '{"é":"ü"}');
  for (let cut = 1; cut < wire.length; cut++) {
    const d = new RecordIODecoder();
    const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    assert.deepEqual(out.map(String), ['{"type":"HEARTBEAT"}', '{"é":"ü"}'], `cut at ${cut}`);
    assert.equal(d.pendingBytes, 0);
  }
});

test('byte-by-byte feeding', () => {
  const wire = records('hello', 'world!');
  const d = new RecordIODecoder();
  const out: Buffer[] = [];
  for (const byte of wire) out.push(...d.push(Buffer.from([byte])));
  assert.deepEqual(out.map(String), ['hello', 'world!']);
});

test('a multi-MB record arriving in 64 KiB chunks', () => {
  const big = 'x'.repeat(5 * 1024 * 1024);
  const wire = records(big, 'tail');
  const d = new RecordIODecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 65536) out.push(...d.push(wire.subarray(i, i + 65536)));
  assert.equal(out.length, 2);
  assert.equal(out[0].length, big.length);
  assert.equal(out[1].toString(), 'tail');
});

test('a bad length line is an error, not a hang', () => {
  assert.throws(() => new RecordIODecoder().push(Buffer.from('abc\n{}')), /bad record length/);
  assert.throws(() => new RecordIODecoder().push(Buffer.from('1'.repeat(40))), /too long/);
  assert.throws(() => new RecordIODecoder(10).push(Buffer.from('11\n')), /exceeds/);
});

test('an incomplete record stays pending', () => {
  const d = new RecordIODecoder();
  assert.deepEqual(d.push(Buffer.from('10\nabc')), []);
  assert.equal(d.pendingBytes, 3);
});
