import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_DATAGRAM_BYTES, RelayRecordBuilder, formatRfc3339, goJsonString, levelFor, splitByEncodedSize,
} from '../../src/relay/relay-record';

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function builder(options: Partial<ConstructorParameters<typeof RelayRecordBuilder>[0]> = {}): RelayRecordBuilder {
  return new RelayRecordBuilder({ hostname: 'agent-1', sendDockerLabels: [], labels: {}, utcOffsetMinutes: 0, ...options });
}

function parse(record: string): Record<string, string> {
  return JSON.parse(record) as Record<string, string>;
}

test('the record has the Go original\'s keys, sorted, and ends with a newline', () => {
  const [record] = builder().build('hello world', 'stdout', T);
  assert.equal(record, '{"Hostname":"agent-1","Level":"info","Payload":"hello world","Timestamp":"2024-01-02T03:04:05Z"}\n');
});

test('Level: stderr lines containing "error" in any case are error; everything else is info', () => {
  for (const line of ['Error: boom', 'ERROR', 'an error happened', 'TerrorIst', 'eRrOr']) {
    assert.equal(levelFor(line, 'stderr'), 'error', line);
    assert.equal(parse(builder().build(line, 'stderr', T)[0] as string).Level, 'error');
  }
  for (const line of ['Error: boom', 'ERROR', 'error']) {
    assert.equal(levelFor(line, 'stdout'), 'info', `stdout ${line}`);
    assert.equal(parse(builder().build(line, 'stdout', T)[0] as string).Level, 'info');
  }
  for (const line of ['warning only', 'err or', '']) assert.equal(levelFor(line, 'stderr'), 'info', line);
});

test('labels named in SendDockerLabels are included when the container has them', () => {
  const b = builder({
    sendDockerLabels: ['ServiceName', 'EnvironmentName', 'Missing'],
    labels: { ServiceName: 'beowulf', EnvironmentName: 'prod', Unlisted: 'secret-ish' },
  });
  const record = parse(b.build('x', 'stdout', T)[0] as string);
  assert.deepEqual(Object.keys(record), ['EnvironmentName', 'Hostname', 'Level', 'Payload', 'ServiceName', 'Timestamp']);
  assert.equal(record.ServiceName, 'beowulf');
  assert.equal(record.EnvironmentName, 'prod');
  assert.equal('Missing' in record, false);
  assert.equal('Unlisted' in record, false);
});

test('no labels are sent when SendDockerLabels is empty', () => {
  const record = parse(builder({ labels: { ServiceName: 'beowulf' } }).build('x', 'stdout', T)[0] as string);
  assert.deepEqual(Object.keys(record), ['Hostname', 'Level', 'Payload', 'Timestamp']);
});

test('an empty label value is still sent: the container has the label', () => {
  const record = parse(builder({ sendDockerLabels: ['Team'], labels: { Team: '' } }).build('x', 'stdout', T)[0] as string);
  assert.equal(record.Team, '');
});

test('labels clashing with logrus keys move to fields.<name>; Hostname wins over a Hostname label', () => {
  const b = builder({
    sendDockerLabels: ['Payload', 'Level', 'Timestamp', 'logrus_error', 'Hostname'],
    labels: { Payload: 'p', Level: 'l', Timestamp: 't', logrus_error: 'e', Hostname: 'label-host' },
  });
  const record = parse(b.build('line', 'stdout', T)[0] as string);
  assert.equal(record.Payload, 'line');
  assert.equal(record['fields.Payload'], 'p');
  assert.equal(record['fields.Level'], 'l');
  assert.equal(record['fields.Timestamp'], 't');
  assert.equal(record['fields.logrus_error'], 'e');
  assert.equal(record.Hostname, 'agent-1');
});

test('strings are escaped as Go encoding/json does', () => {
  assert.equal(goJsonString('<a href="x">&</a>'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
  assert.equal(goJsonString('a\u2028b\u2029'), '"a\\u2028b\\u2029"');
  assert.equal(goJsonString('tab\there\nnl\\ \u0001'), '"tab\\there\\nnl\\\\ \\u0001"');
  assert.equal(goJsonString('é😀'), '"é😀"');
});

test('Timestamp is RFC 3339 with whole seconds, Z for UTC, ±hh:mm otherwise', () => {
  assert.equal(formatRfc3339(T, 0), '2024-01-02T03:04:05Z');
  assert.equal(formatRfc3339(T, 120), '2024-01-02T05:04:05+02:00');
  assert.equal(formatRfc3339(T, -330), '2024-01-01T21:34:05-05:30');
  // Local time by default, as Go's time.Now(); the instant is the same.
  const local = formatRfc3339(T);
  assert.match(local, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  assert.equal(Date.parse(local), Math.floor(T / 1000) * 1000);
});

test('the default datagram limit is 8 KiB', () => {
  assert.equal(MAX_DATAGRAM_BYTES, 8192);
  assert.equal(builder().maxDatagramBytes, 8192);
});

test('a record of exactly the limit is one datagram', () => {
  const overhead = Buffer.byteLength(builder().build('', 'stdout', T)[0] as string);
  const line = 'a'.repeat(MAX_DATAGRAM_BYTES - overhead);
  const records = builder().build(line, 'stdout', T);
  assert.equal(records.length, 1);
  assert.equal(Buffer.byteLength(records[0] as string), MAX_DATAGRAM_BYTES);
  assert.equal(builder().build(line + 'a', 'stdout', T).length, 2);
});

/** Checks the split records: each within the limit, same fields, payloads joined give the line. */
function assertSplit(b: RelayRecordBuilder, line: string, stream: 'stdout' | 'stderr'): Record<string, string>[] {
  const records = b.build(line, stream, T);
  const parsed = records.map(parse);
  for (const r of records) assert.ok(Buffer.byteLength(r) <= b.maxDatagramBytes, `${Buffer.byteLength(r)} bytes`);
  assert.equal(parsed.map((r) => r.Payload).join(''), line);
  for (const r of parsed) {
    assert.equal(r.Timestamp, parsed[0]?.Timestamp);
    assert.equal(r.Level, parsed[0]?.Level);
    assert.equal(r.Hostname, 'agent-1');
    assert.ok(r.Payload !== '', 'no empty pieces');
  }
  return parsed;
}

test('a line too long for one datagram is split into consecutive pieces, never dropped', () => {
  const line = 'error: ' + 'x'.repeat(100_000);
  const parsed = assertSplit(builder({ sendDockerLabels: ['ServiceName'], labels: { ServiceName: 'svc' } }), line, 'stderr');
  assert.ok(parsed.length >= 13);
  assert.ok(parsed.every((r) => r.Level === 'error' && r.ServiceName === 'svc'));
});

test('splitting counts escapes and multi-byte characters, and keeps surrogate pairs whole', () => {
  const b = builder({ maxDatagramBytes: 200 });
  for (const line of ['<&>'.repeat(300), '"\\'.repeat(300), 'é€😀'.repeat(200), '\u0001\t\u2028'.repeat(200), 'a😀'.repeat(150) + '\ud800']) {
    assertSplit(b, line, 'stdout');
  }
});

test('splitting is exact for every limit over a mixed line', () => {
  const line = 'plain <tag> "quoted" é€😀 \u0002 end';
  const overhead = Buffer.byteLength(builder().build('', 'stdout', T)[0] as string);
  for (let max = overhead + 6; max < overhead + 200; max++) assertSplit(builder({ maxDatagramBytes: max }), line, 'stdout');
});

test('labels larger than a datagram: the line goes whole rather than in pieces that only repeat the labels', () => {
  const b = builder({ maxDatagramBytes: 100, sendDockerLabels: ['Big'], labels: { Big: 'b'.repeat(200) } });
  const records = b.build('abc', 'stdout', T);
  assert.deepEqual(records.map((r) => parse(r).Payload), ['abc']);
  const many = b.build('x'.repeat(500), 'stdout', T);
  assert.equal(many.length, 1);
  assert.equal(parse(many[0] as string).Payload, 'x'.repeat(500));
});

test('splitByEncodedSize: pieces fit the budget and join to the text', () => {
  const alphabet = ['a', 'é', '€', '😀', '<', '"', '\n', '\u0003', '\u2028'];
  let seed = 7;
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let round = 0; round < 300; round++) {
    let text = '';
    const length = rand(60);
    for (let i = 0; i < length; i++) text += alphabet[rand(alphabet.length)];
    const budget = 6 + rand(40);
    const pieces = splitByEncodedSize(text, budget);
    assert.equal(pieces.join(''), text);
    for (const piece of pieces) assert.ok(Buffer.byteLength(goJsonString(piece)) - 2 <= budget, `${JSON.stringify(piece)} over ${budget}`);
  }
  assert.deepEqual(splitByEncodedSize('', 10), ['']);
});
