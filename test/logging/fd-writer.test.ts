// Output that cannot be written never hurts (docs/faults.md): against /dev/full (every write is
// ENOSPC, as on a full sandbox disk) and a scripted writeSync for partial writes and recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdWriter } from '../../src/logging/fd-writer';

const at = (): Date => new Date('2026-11-30T12:00:00.000Z');

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: scripted`), { code });
}

test('a full disk (/dev/full): every write is dropped and counted, none throws', () => {
  const fd = openSync('/dev/full', 'w');
  try {
    const out = new FdWriter(fd, 'stdout');
    for (let i = 0; i < 100; i++) assert.equal(out.write(`line ${i}\n`), false);
    assert.equal(out.droppedWrites, 100);
  } finally { closeSync(fd); }
});

test('a write that works again is preceded by one note of what was lost', () => {
  const written: string[] = [];
  let full = true;
  const out = new FdWriter(7, 'stderr', {
    now: at,
    writeSync: (fd, buffer, offset, length) => {
      assert.equal(fd, 7);
      if (full) throw errno('ENOSPC');
      written.push(buffer.toString('utf8', offset, offset + length));
      return length;
    },
  });
  assert.equal(out.write('a\n'), false);
  assert.equal(out.write(Buffer.from('bc\n')), false);
  full = false;
  assert.equal(out.write('d\n'), true);
  assert.equal(out.write('e\n'), true);
  assert.deepEqual(written, [
    'time="2026-11-30T12:00:00.000Z" level=warning msg="Output could not be written and was dropped" stream=stderr writes=2 bytes=5 error=ENOSPC\n',
    'd\n',
    'e\n',
  ]);
  assert.equal(out.droppedWrites, 0);
});

test('a full disk takes part of a line: only the rest counts as dropped, and the note starts a line of its own', () => {
  const file: string[] = [];
  let room = 10;
  const out = new FdWriter(1, 'stdout', {
    now: at,
    writeSync: (_fd, buffer, offset, length) => {
      if (room === 0) throw errno('ENOSPC');
      const n = Math.min(room, length);
      room -= n;
      file.push(buffer.toString('utf8', offset, offset + n));
      return n;
    },
  });
  assert.equal(out.write('12345\n'), true);
  assert.equal(out.write('abcdefgh\n'), false, 'four bytes fit, five do not');
  assert.equal(out.write('lost\n'), false);
  room = 1000;
  assert.equal(out.write('back\n'), true);
  assert.equal(file.join(''), '12345\nabcd\n'
    + 'time="2026-11-30T12:00:00.000Z" level=warning msg="Output could not be written and was dropped" stream=stdout writes=2 bytes=10 error=ENOSPC\n'
    + 'back\n');
});

test('partial writes are completed; EAGAIN is waited out; EPIPE drops', () => {
  const written: string[] = [];
  const script: (string | number)[] = [2, 'EAGAIN', 'EAGAIN', 99, 'EPIPE'];
  const out = new FdWriter(1, 'stdout', {
    now: at,
    writeSync: (_fd, buffer, offset, length) => {
      const step = script.shift() ?? 99;
      if (typeof step === 'string') throw errno(step);
      const n = Math.min(step, length);
      written.push(buffer.toString('utf8', offset, offset + n));
      return n;
    },
  });
  assert.equal(out.write('hello\n'), true);
  assert.deepEqual(written, ['he', 'llo\n']);
  assert.equal(out.write('lost\n'), false);
  assert.equal(out.droppedWrites, 1);
});

test('a real file gets exactly what was written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fd-writer-'));
  const path = join(dir, 'stdout');
  const fd = openSync(path, 'a');
  try {
    const out = new FdWriter(fd, 'stdout');
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`);
    for (const line of lines) assert.equal(out.write(line), true);
    assert.equal(readFileSync(path, 'utf8'), lines.join(''));
  } finally { closeSync(fd); rmSync(dir, { recursive: true }); }
});
