import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, utf8Boundary } from '../../src/relay/line-splitter';

/** Feeds the chunks, then flushes; returns every line as text. */
function run(chunks: (string | Buffer)[], maxLineBytes?: number): string[] {
  const splitter = new LineSplitter(maxLineBytes === undefined ? {} : { maxLineBytes });
  const out: string[] = [];
  for (const chunk of chunks) {
    for (const line of splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) out.push(line.toString('utf8'));
  }
  for (const line of splitter.flush()) out.push(line.toString('utf8'));
  return out;
}

/** What Go's bufio.ScanLines gives for the whole text at once: the reference. */
function scanLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
}

test('one line per newline, without the newline', () => {
  assert.deepEqual(run(['hello\n']), ['hello']);
  assert.deepEqual(run(['a\nb\nc\n']), ['a', 'b', 'c']);
});

test('a line split across frames is joined', () => {
  assert.deepEqual(run(['hel', 'lo wo', 'rld\nnext\n']), ['hello world', 'next']);
});

test('\\r\\n loses its \\r, also when \\r and \\n arrive in different frames', () => {
  assert.deepEqual(run(['a\r\nb\r\n']), ['a', 'b']);
  assert.deepEqual(run(['a\r', '\nb\r', '\n']), ['a', 'b']);
});

test('a lone \\r inside a line is kept, as Go keeps it', () => {
  assert.deepEqual(run(['progress 10%\rprogress 20%\n']), ['progress 10%\rprogress 20%']);
});

test('empty lines are kept', () => {
  assert.deepEqual(run(['\n\na\n\n']), ['', '', 'a', '']);
  assert.deepEqual(run(['\r\n']), ['']);
});

test('a last line without newline comes out at flush, and only once', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('a\nb')).map(String), ['a']);
  assert.equal(splitter.bufferedBytes, 1);
  assert.deepEqual(splitter.flush().map(String), ['b']);
  assert.deepEqual(splitter.flush(), []);
  assert.equal(splitter.bufferedBytes, 0);
});

test('flush of a final "\\r" gives an empty line, as Go drops a trailing CR at EOF too', () => {
  assert.deepEqual(run(['x\n\r']), ['x', '']);
});

test('nothing in, nothing out', () => {
  assert.deepEqual(run([]), []);
  assert.deepEqual(run(['']), []);
});

test('every way of cutting a text into two or three frames gives the same lines', () => {
  const texts = ['ab\r\ncd\n\nef\rg\nh', '\r\n\r\nx', 'one\ntwo\r\nthree', '\n', 'no newline at all', 'é€😀\r\n末尾'];
  for (const text of texts) {
    const bytes = Buffer.from(text);
    const expected = scanLines(text);
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(run([bytes.subarray(0, i), bytes.subarray(i)]), expected, `${JSON.stringify(text)} cut at ${i}`);
      for (let j = i; j <= bytes.length; j++) {
        assert.deepEqual(run([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), expected, `${JSON.stringify(text)} cut at ${i},${j}`);
      }
    }
  }
});

test('byte-at-a-time feeding gives the same lines', () => {
  const text = 'first\r\nsecond\n\nthird\rstill third\nlast';
  const bytes = Buffer.from(text);
  const chunks = [...bytes].map((b) => Buffer.from([b]));
  assert.deepEqual(run(chunks), scanLines(text));
});

test('stdout and stderr need their own splitters: state is per instance', () => {
  const out = new LineSplitter();
  const err = new LineSplitter();
  assert.deepEqual(out.push(Buffer.from('out-')), []);
  assert.deepEqual(err.push(Buffer.from('err-1\n')).map(String), ['err-1']);
  assert.deepEqual(out.push(Buffer.from('1\n')).map(String), ['out-1']);
});

test('a long line is emitted in pieces of at most maxLineBytes, nothing lost', () => {
  const line = 'x'.repeat(25);
  const lines = run([line + '\n'], 10);
  assert.deepEqual(lines, ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
});

test('a line of exactly maxLineBytes stays whole; one byte more makes two pieces', () => {
  assert.deepEqual(run(['0123456789\n'], 10), ['0123456789']);
  assert.deepEqual(run(['0123456789', '\n'], 10), ['0123456789']);
  assert.deepEqual(run(['0123456789A\n'], 10), ['0123456789', 'A']);
  assert.deepEqual(run(['0123456789A', '\n'], 10), ['0123456789', 'A']);
});

test('a long line arriving in small frames never buffers more than maxLineBytes', () => {
  const splitter = new LineSplitter({ maxLineBytes: 16 });
  const pieces: string[] = [];
  for (let i = 0; i < 1000; i++) {
    for (const p of splitter.push(Buffer.from('abc'))) pieces.push(p.toString());
    assert.ok(splitter.bufferedBytes <= 16, `buffered ${splitter.bufferedBytes}`);
  }
  for (const p of splitter.push(Buffer.from('\n'))) pieces.push(p.toString());
  assert.equal(pieces.join(''), 'abc'.repeat(1000));
  assert.ok(pieces.every((p) => Buffer.byteLength(p) <= 16));
  assert.equal(splitter.bufferedBytes, 0);
});

test('a long line cut just before its "\\r\\n" adds no empty line', () => {
  // 10 bytes go out early; the rest "\r" then "\n" end the line without a piece of its own.
  assert.deepEqual(run(['0123456789\r', '\nnext\n'], 10), ['0123456789', 'next']);
  assert.deepEqual(run(['0123456789A', '\r\n'], 10), ['0123456789', 'A']);
});

test('a long line followed by an empty line keeps the empty line', () => {
  assert.deepEqual(run(['0123456789AB', '\n\n'], 10), ['0123456789', 'AB', '']);
});

test('pieces are not cut inside a UTF-8 character', () => {
  const text = 'é€😀'.repeat(50);
  for (const max of [4, 5, 6, 7, 10, 33]) {
    const lines = run([text + '\n'], max);
    assert.equal(lines.join(''), text, `max ${max}`);
    for (const piece of lines) {
      assert.ok(Buffer.byteLength(piece) <= max, `max ${max}: ${piece}`);
      assert.ok(!piece.includes('\ufffd'), `max ${max}: split character`);
    }
  }
});

test('bytes that are not UTF-8 are still cut at the bound', () => {
  const bytes = Buffer.alloc(20, 0x80);
  const splitter = new LineSplitter({ maxLineBytes: 8 });
  const pieces = splitter.push(bytes);
  assert.deepEqual(pieces.map((p) => p.length), [8, 8]);
  assert.equal(splitter.flush()[0]?.length, 4);
});

test('utf8Boundary backs off to the start of a character', () => {
  const euro = Buffer.from('a€b'); // 61 e2 82 ac 62
  assert.equal(utf8Boundary(euro, 2), 1);
  assert.equal(utf8Boundary(euro, 3), 1);
  assert.equal(utf8Boundary(euro, 4), 4);
  assert.equal(utf8Boundary(euro, 9), 5);
});

test('maxLineBytes must be a whole number of at least 4', () => {
  assert.throws(() => new LineSplitter({ maxLineBytes: 3 }), RangeError);
  assert.throws(() => new LineSplitter({ maxLineBytes: 10.5 }), RangeError);
  assert.equal(new LineSplitter().maxLineBytes, 64 * 1024);
});
