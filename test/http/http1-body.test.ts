import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyFraming, ChunkedDecoder, findHeadEnd, Http1Error, MAX_HEAD_BYTES, parseResponseHead } from '../../src/http/http1-body';
import type { ResponseHead } from '../../src/http/http1-body';

/** Checks an Http1Error whose message matches `pattern`. */
function http1Error(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof Http1Error, `not an Http1Error: ${String(err)}`);
    assert.equal(err.code, 'E_HTTP1');
    assert.match(err.message, pattern);
    return true;
  };
}

/** Every way of cutting [0, length] into pieces with `count` cuts (cuts may coincide: empty reads). */
function* cutsOf(length: number, count: number): Generator<number[]> {
  if (count === 0) {
    yield [];
    return;
  }
  for (const rest of cutsOf(length, count - 1)) {
    for (let cut = rest.at(-1) ?? 0; cut <= length; cut++) yield [...rest, cut];
  }
}

function byteByByte(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

describe('findHeadEnd', () => {
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody\r\n\r\n', 'latin1');
  const headEnd = response.indexOf('\r\n\r\n') + 4;

  it('finds the end of a head received in one piece, not the blank lines in the body', () => {
    assert.equal(findHeadEnd(response, 0, response.length), headEnd);
  });

  it('returns -1 until the blank line is there', () => {
    assert.equal(findHeadEnd(response, 0, 0), -1);
    for (let end = 0; end < headEnd; end++) assert.equal(findHeadEnd(response, 0, end), -1, `end ${end}`);
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.1 200 OK\r\n\r'), 0, 18), -1);
  });

  it('never reads at or past `end`, where a reused buffer holds stale bytes', () => {
    const buffer = Buffer.from('HTTP/1.1 200 OK\r\nA: b\r\n\r\n');
    assert.equal(findHeadEnd(buffer, 0, buffer.length - 1), -1);
    const stale = Buffer.alloc(64, '\r\n');
    assert.equal(findHeadEnd(stale, 0, 3), -1);
    assert.equal(findHeadEnd(stale, 0, 4), 4);
  });

  /** Reads `bytes` into one growing buffer, as a socket client would, cut at `cuts`; returns the head end found. */
  function resume(bytes: Buffer, cuts: number[]): number {
    const buffer = Buffer.alloc(bytes.length + 16, '\r\n'); // stale terminators past `end`
    let searched = 0;
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      bytes.copy(buffer, from, from, cut);
      from = cut;
      const found = findHeadEnd(buffer, searched, cut);
      if (found !== -1) return found;
      searched = cut;
    }
    return -1;
  }

  it('resumes across pieces: the terminator split at every position, with the previous end as `from`', () => {
    for (const cuts of cutsOf(response.length, 2)) assert.equal(resume(response, cuts), headEnd, `cuts ${cuts}`);
    assert.equal(resume(response, byteByByte(response.length)), headEnd);
  });

  it('finds the first blank line when several arrive in one read', () => {
    const bytes = Buffer.from('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n');
    assert.equal(findHeadEnd(bytes, 0, bytes.length), 27);
    assert.equal(findHeadEnd(bytes, 25, bytes.length), 27, 'backs up 3 bytes from `from`');
  });

  it(`accepts a head of exactly ${MAX_HEAD_BYTES} bytes and throws once a head exceeds it`, () => {
    const status = 'HTTP/1.1 200 OK\r\nX: ';
    const exact = Buffer.from(`${status}${'a'.repeat(MAX_HEAD_BYTES - status.length - 4)}\r\n\r\n`);
    assert.equal(exact.length, MAX_HEAD_BYTES);
    assert.equal(findHeadEnd(exact, 0, exact.length), MAX_HEAD_BYTES);
    const over = Buffer.from(`${status}${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`);
    assert.equal(findHeadEnd(over, 0, MAX_HEAD_BYTES - 1), -1);
    assert.throws(() => findHeadEnd(over, 0, MAX_HEAD_BYTES), http1Error(/longer than 65536 bytes/));
    assert.throws(() => findHeadEnd(over, 0, over.length), http1Error(/longer than 65536 bytes/));
  });
});

describe('parseResponseHead', () => {
  it('reads a 200 with a reason phrase, lower-casing names', () => {
    const head = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.43\r\n\r\n');
    assert.deepEqual(head, { status: 200, headers: { 'content-type': 'application/json', 'api-version': '1.43' } });
  });

  it('reads a status line without a reason phrase, or with an empty or spaced one', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.1 200'), { status: 200, headers: {} });
    assert.deepEqual(parseResponseHead('HTTP/1.1 404 '), { status: 404, headers: {} });
    assert.equal(parseResponseHead('HTTP/1.1 500 Internal  Server Error \r\n').status, 500);
  });

  it('reads HTTP/1.0', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.0 304 Not Modified\r\nETag: "x"\r\n'), { status: 304, headers: { etag: '"x"' } });
  });

  it('accepts the head with the blank line, with its last CRLF only, or with neither', () => {
    const expected: ResponseHead = { status: 200, headers: { a: 'b' } };
    for (const text of ['HTTP/1.1 200 OK\r\nA: b\r\n\r\n', 'HTTP/1.1 200 OK\r\nA: b\r\n', 'HTTP/1.1 200 OK\r\nA: b']) {
      assert.deepEqual(parseResponseHead(text), expected, JSON.stringify(text));
    }
  });

  it('joins a repeated header\'s values with ", ", in order, whatever the case of its name', () => {
    const head = parseResponseHead('HTTP/1.1 200 OK\r\nVary: Accept\r\nX: 1\r\nvary: Origin\r\nVARY: Cookie\r\n\r\n');
    assert.deepEqual(head.headers, { vary: 'Accept, Origin, Cookie', x: '1' });
  });

  it('trims optional whitespace (spaces and tabs) around values, and keeps it inside', () => {
    const head = parseResponseHead('HTTP/1.1 200 OK\r\nA:b\r\nB: \t x  y \t \r\nC:\r\nD:   \r\n\r\n');
    assert.deepEqual(head.headers, { a: 'b', b: 'x  y', c: '', d: '' });
  });

  it('keeps latin1 bytes in values and treats a header named __proto__ as a plain one', () => {
    const head = parseResponseHead('HTTP/1.1 200 OK\r\nX-Name: caf\xe9\xa0\r\n__proto__: 1\r\n\r\n');
    assert.equal(head.headers['x-name'], 'caf\xe9\xa0');
    assert.ok(Object.hasOwn(head.headers, '__proto__'));
    assert.equal(Object.getPrototypeOf(head.headers), Object.prototype);
  });

  it('accepts every token character in a name', () => {
    const name = "!#$%&'*+-.^_`|~09azAZ";
    assert.deepEqual(parseResponseHead(`HTTP/1.1 200 OK\r\n${name}: v\r\n`).headers, { [name.toLowerCase()]: 'v' });
  });

  it('throws on a status line that is not HTTP/1.0 or HTTP/1.1 with a three-digit code', () => {
    for (const line of ['', 'HTTP/1.1', 'HTTP/1.1 ', 'HTTP/1.1 20', 'HTTP/1.1 2000 OK', 'HTTP/1.1 20x OK', 'HTTP/1.1  200 OK',
      'HTTP/2 200', 'HTTP/1.2 200 OK', 'http/1.1 200 OK', 'HTTP/1.1\t200 OK', ' HTTP/1.1 200 OK', 'ICY 200 OK', 'SSH-2.0-OpenSSH_9.6']) {
      assert.throws(() => parseResponseHead(`${line}\r\nA: b\r\n\r\n`), http1Error(/not an HTTP\/1\.0 or HTTP\/1\.1 status line/), JSON.stringify(line));
    }
  });

  it('throws on a header line without a colon', () => {
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'), http1Error(/header line without ':': "no colon here"/));
  });

  it('throws on an invalid header name', () => {
    for (const name of ['', 'a b', 'a"b', 'a/b', 'a@b', '(a)', '\xe9']) {
      assert.throws(() => parseResponseHead(`HTTP/1.1 200 OK\r\n${name}: v\r\n`), http1Error(/invalid response header name/), JSON.stringify(name));
    }
  });

  it('throws on whitespace before the colon', () => {
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length : 5\r\n'), http1Error(/whitespace between a header name and ':'/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length\t: 5\r\n'), http1Error(/whitespace between a header name and ':'/));
  });

  it('throws on obsolete line folding', () => {
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'), http1Error(/obsolete line folding/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n'), http1Error(/obsolete line folding/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\n X: a\r\n\r\n'), http1Error(/obsolete line folding/));
  });

  it('throws on a bare CR or LF, a NUL, or a blank line inside the head', () => {
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\nA: b\r\n'), http1Error(/bare CR or LF/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nA: b\nB: c\r\n'), http1Error(/bare CR or LF/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nA: b\rB: c\r\n'), http1Error(/bare CR or LF/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nA: b\0\r\n'), http1Error(/NUL/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nA: b\r\n\r\nB: c\r\n'), http1Error(/blank line inside the response head/));
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\n\r\n\r\n'), http1Error(/blank line inside the response head/));
  });

  it('quotes at most about 80 bytes of the offending input', () => {
    const long = `X${'y'.repeat(10_000)}`;
    for (const text of [`HTTP/1.1 200 OK\r\n${long}\r\n`, `${long}\r\n`, `HTTP/1.1 200 OK\r\n ${long}\r\n`, `HTTP/1.1 200 OK\r\n${long} : v\r\n`]) {
      assert.throws(() => parseResponseHead(text), (err: unknown) => {
        assert.ok(err instanceof Http1Error);
        assert.ok(!err.message.includes('y'.repeat(81)), err.message);
        assert.ok(err.message.length < 200, err.message);
        return true;
      });
    }
  });
});

describe('bodyFraming', () => {
  const head = (status: number, headers: Record<string, string> = {}): ResponseHead => ({ status, headers });

  it('gives no body to 1xx, 204 and 304, whatever the headers say', () => {
    for (const status of [100, 101, 103, 199, 204, 304]) {
      assert.deepEqual(bodyFraming(head(status, { 'transfer-encoding': 'chunked', 'content-length': '10' })), { kind: 'length', length: 0 }, String(status));
      assert.deepEqual(bodyFraming(head(status)), { kind: 'length', length: 0 }, String(status));
    }
  });

  it('reads chunked when it is the final transfer coding, in any case', () => {
    for (const te of ['chunked', 'Chunked', 'CHUNKED', 'gzip, chunked', 'gzip,chunked', 'gzip ,\tchunked ', 'chunked, ', ', chunked']) {
      assert.deepEqual(bodyFraming(head(200, { 'transfer-encoding': te })), { kind: 'chunked' }, te);
    }
  });

  it('reads until close when a transfer coding is present but chunked is not last', () => {
    for (const te of ['gzip', 'chunked, gzip', 'identity', 'chunkedx', '']) {
      assert.deepEqual(bodyFraming(head(200, { 'transfer-encoding': te })), { kind: 'close' }, te);
    }
  });

  it('lets Transfer-Encoding override Content-Length, even an invalid one', () => {
    assert.deepEqual(bodyFraming(head(200, { 'transfer-encoding': 'chunked', 'content-length': '5' })), { kind: 'chunked' });
    assert.deepEqual(bodyFraming(head(200, { 'transfer-encoding': 'gzip', 'content-length': '5' })), { kind: 'close' });
    assert.deepEqual(bodyFraming(head(200, { 'transfer-encoding': 'chunked', 'content-length': 'abc' })), { kind: 'chunked' });
  });

  it('reads a valid Content-Length, including a list of identical values', () => {
    assert.deepEqual(bodyFraming(head(200, { 'content-length': '5' })), { kind: 'length', length: 5 });
    assert.deepEqual(bodyFraming(head(200, { 'content-length': '0' })), { kind: 'length', length: 0 });
    assert.deepEqual(bodyFraming(head(404, { 'content-length': '5, 5' })), { kind: 'length', length: 5 });
    assert.deepEqual(bodyFraming(head(200, { 'content-length': '5,5,\t5' })), { kind: 'length', length: 5 });
    assert.deepEqual(bodyFraming(head(200, { 'content-length': String(Number.MAX_SAFE_INTEGER) })), { kind: 'length', length: Number.MAX_SAFE_INTEGER });
  });

  it('throws on differing Content-Length values', () => {
    assert.throws(() => bodyFraming(head(200, { 'content-length': '5, 6' })), http1Error(/conflicting Content-Length values "5, 6"/));
  });

  it('throws on a Content-Length that is not digits only', () => {
    for (const cl of ['-1', 'abc', '', ' ', '5,', '+5', '5.0', '0x10', '1e3', '5 5']) {
      assert.throws(() => bodyFraming(head(200, { 'content-length': cl })), http1Error(/invalid Content-Length/), JSON.stringify(cl));
    }
  });

  it('throws on a Content-Length beyond 2^53 - 1', () => {
    assert.throws(() => bodyFraming(head(200, { 'content-length': '9007199254740992' })), http1Error(/too large/));
  });

  it('reads until close with neither header', () => {
    assert.deepEqual(bodyFraming(head(200, { 'content-type': 'text/plain' })), { kind: 'close' });
  });
});

/** A byte range handed to onData. */
interface Decoded {
  /** The data, copied out of the read buffer as a caller must. */
  data: Buffer;
  /** Offset in the fed bytes just after the body, or -1. */
  end: number;
  error: unknown;
}

/**
 * Feeds `bytes` cut at `cuts`, as a socket client would: each piece is copied into one reused read
 * buffer at an offset, and the buffer is scribbled over after each feed, so the decoder may keep
 * nothing from an earlier read. Stops at the body's end or the first error.
 */
function decode(bytes: Buffer, cuts: number[]): Decoded {
  const decoder = new ChunkedDecoder();
  const read = Buffer.alloc(bytes.length + 10);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const offset = 3 + (from % 5);
    bytes.copy(read, offset, from, cut);
    const pieceEnd = offset + cut - from;
    try {
      const end = decoder.feed(read, offset, pieceEnd, (given, start, stop) => {
        assert.equal(given, read, 'onData gets the buffer that was fed, not a copy');
        assert.ok(offset <= start && start < stop && stop <= pieceEnd, `range ${start}..${stop} inside ${offset}..${pieceEnd}, not empty`);
        parts.push(Buffer.from(given.subarray(start, stop)));
      });
      if (end !== -1) {
        assert.ok(decoder.done);
        assert.ok(offset <= end && end <= pieceEnd);
        return { data: Buffer.concat(parts), end: from + end - offset, error: undefined };
      }
      assert.ok(!decoder.done);
    } catch (error) {
      return { data: Buffer.concat(parts), end: -1, error };
    }
    read.fill('Z');
    from = cut;
  }
  return { data: Buffer.concat(parts), end: -1, error: undefined };
}

/** One multiplexed log frame, as Docker writes them inside the HTTP chunks. */
function frame(stream: number, payload: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** Encodes `pieces` as chunks, each with its own size-line spelling. */
function chunked(pieces: [sizeLine: (size: number) => string, data: Buffer][], trailers = ''): Buffer {
  const parts = pieces.flatMap(([sizeLine, data]) => [Buffer.from(`${sizeLine(data.length)}\r\n`), data, Buffer.from('\r\n')]);
  return Buffer.concat([...parts, Buffer.from(`0\r\n${trailers}\r\n`)]);
}

const lowerHex = (n: number): string => n.toString(16);
const upperHex = (n: number): string => n.toString(16).toUpperCase();

describe('ChunkedDecoder', () => {
  // Docker's log stream: many small chunks, each holding frames or parts of frames, with bytes
  // inside the data that look like chunk syntax.
  const frames = Buffer.concat([frame(1, 'starting\n'), frame(2, 'warning: 0\r\n\r\n\n'), frame(1, 'x'.repeat(30) + '\n'), frame(1, 'done\n')]);
  const dataPieces = [frames.subarray(0, 17), frames.subarray(17, 18), frames.subarray(18, 44), frames.subarray(44, 71), frames.subarray(71)];
  const dockerBody = chunked([
    [lowerHex, dataPieces[0]!],
    [(n) => `0${upperHex(n)}`, dataPieces[1]!],
    [(n) => `${upperHex(n)};name=value`, dataPieces[2]!],
    [(n) => `${lowerHex(n)} \t;a=1;b="x; \\"y\\""`, dataPieces[3]!],
    [(n) => `${n.toString(16).padStart(16, '0')};`, dataPieces[4]!],
  ], 'X-Docker-Trailer: ok\r\nX-Other:\r\n');
  const after = Buffer.from('HTTP/1.1 200 OK\r\n');
  const dockerStream = Buffer.concat([dockerBody, after]);

  it('decodes the log stream in one piece and points just past the body', () => {
    assert.ok(dockerBody.includes('\r\n1A;name=value\r\n') && dockerBody.includes('\r\n1b \t;a=1;'), 'both cases of hex');
    const result = decode(dockerStream, []);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.data, frames);
    assert.equal(result.end, dockerBody.length, 'bytes after the body are not consumed');
  });

  it('decodes the log stream cut at every position', () => {
    for (const cuts of cutsOf(dockerStream.length, 1)) {
      const result = decode(dockerStream, cuts);
      assert.equal(result.error, undefined, `cut ${cuts}`);
      assert.deepEqual(result.data, frames, `cut ${cuts}`);
      assert.equal(result.end, dockerBody.length, `cut ${cuts}`);
    }
  });

  it('decodes the log stream byte by byte', () => {
    const result = decode(dockerStream, byteByByte(dockerStream.length));
    assert.deepEqual(result.data, frames);
    assert.equal(result.end, dockerBody.length);
  });

  it('decodes a shorter body cut at every pair of positions', () => {
    const data = Buffer.from('ab\r\n0\r\n');
    const body = chunked([[upperHex, data.subarray(0, 3)], [(n) => `${n};e`, data.subarray(3, 4)], [(n) => `00${n}`, data.subarray(4)]], 'T: 1\r\n');
    const stream = Buffer.concat([body, Buffer.from('NEXT')]);
    let count = 0;
    for (const cuts of cutsOf(stream.length, 2)) {
      const result = decode(stream, cuts);
      assert.equal(result.error, undefined, `cuts ${cuts}`);
      assert.deepEqual(result.data, data, `cuts ${cuts}`);
      assert.equal(result.end, body.length, `cuts ${cuts}`);
      count++;
    }
    assert.equal(count, ((stream.length + 1) * (stream.length + 2)) / 2);
  });

  it('decodes an empty body, and one with only trailers', () => {
    for (const body of ['0\r\n\r\n', '000;x=y\r\n\r\n', '0\r\nA: b\r\nC: d\r\n\r\n']) {
      for (const cuts of cutsOf(body.length, 1)) {
        const result = decode(Buffer.from(`${body}rest`), cuts);
        assert.equal(result.error, undefined);
        assert.equal(result.data.length, 0);
        assert.equal(result.end, body.length, JSON.stringify(body));
      }
    }
  });

  it('decodes a large chunk read in socket-sized pieces', () => {
    const data = Buffer.alloc(1_000_000, 'q');
    const body = chunked([[lowerHex, data], [upperHex, Buffer.from('tail')]]);
    const cuts: number[] = [];
    for (let at = 3; at < body.length; at += 65_536) cuts.push(at);
    const result = decode(body, cuts);
    assert.ok(result.data.equals(Buffer.concat([data, Buffer.from('tail')])));
    assert.equal(result.end, body.length);
  });

  it('returns -1 without a call for an empty feed, and the body end for a feed that starts there', () => {
    const decoder = new ChunkedDecoder();
    const bytes = Buffer.from('xx3\r\nabc\r\n0\r\n\r\nyy');
    const calls: [number, number][] = [];
    const onData = (_: Buffer, start: number, end: number): void => { calls.push([start, end]); };
    assert.equal(decoder.feed(bytes, 2, 2, onData), -1);
    assert.equal(decoder.feed(bytes, 2, 8, onData), -1);
    assert.deepEqual(calls, [[5, 8]]);
    assert.equal(decoder.feed(bytes, 8, 10, onData), -1);
    assert.equal(decoder.done, false);
    assert.equal(decoder.feed(bytes, 10, bytes.length, onData), bytes.length - 2);
    assert.equal(decoder.done, true);
    assert.deepEqual(calls, [[5, 8]]);
  });

  it('accepts the largest safe chunk size and 16 hex digits', () => {
    for (const size of ['1FFFFFFFFFFFFF', '1fffffffffffff', '001FFFFFFFFFFFFF', '000000000000000A']) {
      const result = decode(Buffer.from(`${size}\r\nab`), []);
      assert.equal(result.error, undefined, size);
      assert.equal(result.data.toString(), 'ab');
      assert.equal(result.end, -1);
    }
  });

  /** Asserts `body` fails with `pattern` at every cut, after delivering `delivered`. */
  function assertFails(body: string, pattern: RegExp, delivered = ''): void {
    const bytes = Buffer.from(body, 'latin1');
    for (const cuts of [...cutsOf(bytes.length, 1), byteByByte(bytes.length)]) {
      const result = decode(bytes, cuts);
      assert.ok(result.error !== undefined, `${JSON.stringify(body)} cut ${cuts} did not fail`);
      http1Error(pattern)(result.error);
      assert.equal(result.data.toString('latin1'), delivered, `${JSON.stringify(body)} cut ${cuts}`);
    }
  }

  it('throws on a chunk size that is not hexadecimal', () => {
    assertFails('xyz\r\n', /chunk size is not hexadecimal \(found "x"\)/);
    assertFails('5g\r\nhello\r\n', /chunk size is not hexadecimal \(found "g"\)/);
    assertFails('-5\r\n', /not hexadecimal \(found "-"\)/);
    assertFails('0x5\r\nhello', /not hexadecimal \(found "x"\)/);
    assertFails('3\r\nabc\r\n\x005\r\n', /not hexadecimal \(found byte 0x00\)/, 'abc');
    assertFails(' 5\r\n', /not hexadecimal \(found byte 0x20\)/);
    assertFails('5 \r\nhello', /unexpected byte 0x0d after the chunk size/);
    assertFails('5 x;a\r\nhello', /unexpected "x" after the chunk size/);
  });

  it('throws on an empty chunk size line', () => {
    assertFails('\r\n', /empty chunk size line/);
    assertFails('3\r\nabc\r\n\r\n', /empty chunk size line/, 'abc');
    assertFails('\n', /empty chunk size line/);
  });

  it('throws on a chunk size of more than 16 hex digits or over 2^53 - 1', () => {
    assertFails('00000000000000001\r\n', /too large \(more than 16 hex digits\)/);
    assertFails('20000000000000\r\n', /too large \(over 2\^53 - 1 bytes\)/);
    assertFails('FFFFFFFFFFFFFFFF\r\n', /too large/);
  });

  it('throws when chunk data is not followed by CRLF, after delivering the data', () => {
    assertFails('3\r\nabcX', /chunk data is not followed by CRLF \(found "X"\)/, 'abc');
    assertFails('3\r\nabc\rX', /chunk data is not followed by CRLF \(found "X"\)/, 'abc');
    assertFails('2\r\nabc\r\n', /chunk data is not followed by CRLF \(found "c"\)/, 'ab');
  });

  it('throws on a bare LF or a CR without LF where CRLF is required', () => {
    assertFails('3\nabc\r\n', /bare LF/);
    assertFails('3;ext\nabc\r\n', /bare LF/);
    assertFails('3\r\nabc\n', /chunk data is not followed by CRLF \(found byte 0x0a\)/, 'abc');
    assertFails('0\r\nA: b\n\r\n', /bare LF/);
    assertFails('0\r\n\n', /bare LF/);
    assertFails('3\rabc', /CR not followed by LF after the chunk size/);
    assertFails('0\r\nA: b\rX\r\n\r\n', /CR not followed by LF in the trailer section/);
    assertFails('0\r\n\rX', /CR not followed by LF in the trailer section/);
  });

  it('delivers every data byte before a fault, across feeds and within one', () => {
    assertFails('3\r\nabc\r\n2\r\nde\r\n4\r\nfghiZ', /not followed by CRLF/, 'abcdefghi');
    assertFails('3\r\nabc\r\nzz\r\n', /not hexadecimal \(found "z"\)/, 'abc');
  });

  it('throws if fed again after the body ended or after a fault', () => {
    const decoder = new ChunkedDecoder();
    const noData = (): void => assert.fail('no data expected');
    assert.equal(decoder.feed(Buffer.from('0\r\n\r\n'), 0, 5, noData), 5);
    assert.equal(decoder.done, true);
    assert.throws(() => decoder.feed(Buffer.from('0\r\n\r\n'), 0, 5, noData), http1Error(/after the body ended/));
    assert.throws(() => decoder.feed(Buffer.alloc(0), 0, 0, noData), http1Error(/after the body ended/));

    const failed = new ChunkedDecoder();
    assert.throws(() => failed.feed(Buffer.from('q'), 0, 1, noData), http1Error(/not hexadecimal/));
    assert.equal(failed.done, false);
    assert.throws(() => failed.feed(Buffer.from('0\r\n\r\n'), 0, 5, noData), http1Error(/after the body was found malformed/));
  });

  it('bounds a chunk-size line and a trailer section it skips, counting from the CRLF before them', () => {
    const limit = /chunk-size line or trailer section is longer than 65536 bytes/;
    const ext = (length: number): string => `;${'e'.repeat(length - 1)}`;
    // The first line: "3" + extension + CRLF.
    assert.equal(decode(Buffer.from(`3${ext(MAX_HEAD_BYTES - 3)}\r\nabc\r\n0\r\n\r\n`), [100, 65_000]).error, undefined);
    http1Error(limit)(decode(Buffer.from(`3${ext(MAX_HEAD_BYTES - 2)}\r\nabc`), [100, 65_000]).error);
    // A later line: the CRLF after the data, "3" + extension + CRLF.
    assert.equal(decode(Buffer.from(`3\r\nabc\r\n3${ext(MAX_HEAD_BYTES - 5)}\r\nabc\r\n0\r\n\r\n`), []).error, undefined);
    const over = decode(Buffer.from(`3\r\nabc\r\n3${ext(MAX_HEAD_BYTES - 4)}\r\nabc\r\n0\r\n\r\n`), [5]);
    http1Error(limit)(over.error);
    assert.equal(over.data.toString(), 'abc');
    // The trailer section with its final CRLF, each trailer line bounded only as part of it.
    const trailers = (length: number): string => `T: ${'t'.repeat(length - 5)}\r\n`;
    assert.equal(decode(Buffer.from(`0\r\n${trailers(MAX_HEAD_BYTES - 2)}\r\n`), []).end, MAX_HEAD_BYTES + 3);
    http1Error(limit)(decode(Buffer.from(`0\r\n${trailers(MAX_HEAD_BYTES - 1)}\r\n`), []).error);
    const many = 'T: x\r\n'.repeat(Math.ceil(MAX_HEAD_BYTES / 6));
    http1Error(limit)(decode(Buffer.from(`0\r\n${many}\r\n`), [70]).error);
    assert.equal(decode(Buffer.from(`0\r\n${'T: x\r\n'.repeat(100)}\r\n`), []).error, undefined);
  });
});

describe('a whole response from one buffer', () => {
  it('finds the head, frames the body and decodes it from the same buffer', () => {
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    const headEnd = findHeadEnd(bytes, 0, bytes.length);
    const head = parseResponseHead(bytes.toString('latin1', 0, headEnd));
    assert.equal(head.status, 200);
    assert.deepEqual(bodyFraming(head), { kind: 'chunked' });
    const decoder = new ChunkedDecoder();
    const data: string[] = [];
    assert.equal(decoder.feed(bytes, headEnd, bytes.length, (b, s, e) => data.push(b.toString('latin1', s, e))), bytes.length);
    assert.deepEqual(data, ['hello']);
  });
});
