import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LogDemuxer, LogStreamError } from '../../src/docker/log-demux';
import type { LogFrame } from '../../src/docker/engine-api';

function frame(stream: number, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

function text(frames: LogFrame[]): [string, string][] {
  return frames.map((f) => [f.stream, f.data.toString()]);
}

/** Feeds one chunk; returns the frames it completed (views of the chunk where they lie inside it). */
function collect(demux: LogDemuxer, chunk: Buffer, frames: LogFrame[] = []): LogFrame[] {
  demux.feed(chunk, 0, chunk.length, (stream, bytes, start, end) => frames.push({ stream, data: bytes.subarray(start, end) }));
  return frames;
}

/** Feeds `bytes` cut at `cuts`, returns every frame. */
function feed(bytes: Buffer, cuts: number[]): LogFrame[] {
  const demux = new LogDemuxer();
  const out: LogFrame[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...collect(demux, bytes.subarray(from, cut)));
    from = cut;
  }
  assert.equal(demux.pendingBytes, 0);
  return out;
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LogDemuxer', () => {
  it('reads one stdout frame', () => {
    assert.deepEqual(text(collect(new LogDemuxer(), frame(1, 'hello\n'))), [['stdout', 'hello\n']]);
  });

  it('reads one stderr frame', () => {
    assert.deepEqual(text(collect(new LogDemuxer(), frame(2, 'oops\n'))), [['stderr', 'oops\n']]);
  });

  it('counts stdin frames as stdout, as Docker stdcopy does', () => {
    assert.deepEqual(text(collect(new LogDemuxer(), frame(0, 'in'))), [['stdout', 'in']]);
  });

  it('reads several frames from one chunk, in order', () => {
    const bytes = Buffer.concat([frame(1, 'a'), frame(2, 'bb'), frame(1, 'ccc')]);
    assert.deepEqual(text(collect(new LogDemuxer(), bytes)), [['stdout', 'a'], ['stderr', 'bb'], ['stdout', 'ccc']]);
  });

  it('returns nothing until a frame is complete, and keeps the rest', () => {
    const demux = new LogDemuxer();
    const bytes = frame(1, 'hello');
    assert.deepEqual(collect(demux, bytes.subarray(0, 3)), []);
    assert.equal(demux.pendingBytes, 3);
    assert.deepEqual(collect(demux, bytes.subarray(3, 10)), []);
    assert.equal(demux.pendingBytes, 10);
    assert.deepEqual(text(collect(demux, bytes.subarray(10))), [['stdout', 'hello']]);
    assert.equal(demux.pendingBytes, 0);
  });

  it('handles a cut at every position of a two-frame stream', () => {
    const bytes = Buffer.concat([frame(1, 'first line\n'), frame(2, 'second\n')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(text(feed(bytes, [cut])), [['stdout', 'first line\n'], ['stderr', 'second\n']], `cut at ${cut}`);
    }
  });

  it('handles one byte at a time', () => {
    const bytes = Buffer.concat([frame(1, 'x'.repeat(300)), frame(2, 'y'), frame(1, '')]);
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(text(feed(bytes, cuts)), [['stdout', 'x'.repeat(300)], ['stderr', 'y']]);
  });

  it('skips empty frames, wherever they are', () => {
    const bytes = Buffer.concat([frame(1, ''), frame(2, 'e'), frame(2, ''), frame(1, ''), frame(1, 'o'), frame(1, '')]);
    assert.deepEqual(text(collect(new LogDemuxer(), bytes)), [['stderr', 'e'], ['stdout', 'o']]);
    for (let cut = 0; cut <= bytes.length; cut++) assert.deepEqual(text(feed(bytes, [cut])), [['stderr', 'e'], ['stdout', 'o']]);
  });

  it('accepts empty chunks', () => {
    const demux = new LogDemuxer();
    assert.deepEqual(collect(demux, Buffer.alloc(0)), []);
    assert.deepEqual(text(collect(demux, frame(1, 'z'))), [['stdout', 'z']]);
    assert.deepEqual(collect(demux, Buffer.alloc(0)), []);
  });

  it('keeps binary payloads byte for byte, including bytes that look like headers', () => {
    const payload = Buffer.from([1, 0, 0, 0, 0, 0, 0, 5, 0xff, 0x00, 0x0a]);
    const frames = feed(Buffer.concat([frame(2, payload), frame(1, payload)]), [5, 13, 20]);
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], { stream: 'stderr', data: payload });
    assert.deepEqual(frames[1], { stream: 'stdout', data: payload });
  });

  it('does not copy a frame that lies inside one chunk', () => {
    const chunk = Buffer.concat([frame(1, 'abc'), frame(2, 'def')]);
    const [a, b] = collect(new LogDemuxer(), chunk);
    assert.equal(a!.data.buffer, chunk.buffer);
    assert.equal(b!.data.buffer, chunk.buffer);
  });

  it('reads a large frame split over many chunks', () => {
    const big = Buffer.alloc(1_000_000, 'q');
    const bytes = Buffer.concat([frame(1, big), frame(2, 'tail')]);
    const cuts: number[] = [];
    for (let at = 7; at < bytes.length; at += 65_536) cuts.push(at);
    const frames = feed(bytes, cuts);
    assert.equal(frames.length, 2);
    assert.ok(frames[0]!.data.equals(big));
    assert.equal(frames[1]!.data.toString(), 'tail');
  });

  it('gives the same frames for any chunking (randomised, seeded)', () => {
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const expected: [string, string][] = [];
      const parts: Buffer[] = [];
      const count = Math.floor(random() * 8);
      for (let i = 0; i < count; i++) {
        const stream = 1 + Math.floor(random() * 2);
        const payload = 'p'.repeat(Math.floor(random() * 40)) + i;
        parts.push(frame(stream, payload));
        expected.push([stream === 1 ? 'stdout' : 'stderr', payload]);
      }
      const bytes = Buffer.concat(parts);
      const cuts = Array.from({ length: Math.floor(random() * 10) }, () => Math.floor(random() * (bytes.length + 1))).sort((x, y) => x - y);
      assert.deepEqual(text(feed(bytes, cuts)), expected, `round ${round}`);
    }
  });

  it('never keeps a view of the chunk: the caller may reuse it once feed returns', () => {
    // As the log stream does: every read lands in one buffer, at an offset, overwritten next time.
    const bytes = Buffer.concat([frame(1, 'first line\n'), frame(2, 'an error\n'), frame(1, 'x'.repeat(40))]);
    const expected = [['stdout', 'first line\n'], ['stderr', 'an error\n'], ['stdout', 'x'.repeat(40)]];
    const scratch = Buffer.alloc(bytes.length + 16);
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b += 3) {
        const demux = new LogDemuxer();
        const seen: [string, string][] = [];
        for (const [from, to] of [[0, a], [a, b], [b, bytes.length]] as const) {
          bytes.copy(scratch, 5, from, to);
          demux.feed(scratch, 5, 5 + to - from, (stream, chunk, start, end) => seen.push([stream, chunk.toString('utf8', start, end)]));
          scratch.fill(0xee);
        }
        assert.deepEqual(seen, expected, `cuts ${a}, ${b}`);
        assert.equal(demux.pendingBytes, 0);
      }
    }
  });

  it('throws the daemon\'s message for a system-error frame (stream 3)', () => {
    const demux = new LogDemuxer();
    const before: LogFrame[] = [];
    assert.throws(() => collect(demux, Buffer.concat([frame(1, 'ok'), frame(3, 'log driver failed\n')]), before), (err: unknown) => {
      assert.ok(err instanceof LogStreamError);
      assert.equal(err.code, 'E_LOG_STREAM');
      assert.match(err.message, /log driver failed/);
      return true;
    });
    assert.deepEqual(text(before), [['stdout', 'ok']], 'the frames before the fault were delivered');
  });

  it('throws on an unknown stream type: the stream is not multiplexed', () => {
    assert.throws(() => collect(new LogDemuxer(), Buffer.from('hello world, raw tty output')), (err: unknown) => {
      assert.ok(err instanceof LogStreamError);
      assert.match(err.message, /unrecognized stream type 104/);
      return true;
    });
  });

  it('throws on a frame longer than the limit, before buffering it', () => {
    const header = Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => collect(new LogDemuxer(), header), /exceeds the 67108864 byte limit/);
    assert.throws(() => collect(new LogDemuxer(4), frame(1, 'hello')), /frame of 5 bytes exceeds the 4 byte limit/);
    assert.deepEqual(text(collect(new LogDemuxer(5), frame(1, 'hello'))), [['stdout', 'hello']]);
  });
});
