import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameMark } from '../../src/relay/log-catch-up';

function markOf(stream: 'stdout' | 'stderr', text: string, offset = 0): FrameMark {
  const mark = new FrameMark();
  const bytes = Buffer.concat([Buffer.alloc(offset, 0x2a), Buffer.from(text), Buffer.alloc(5, 0x2b)]);
  mark.note(stream, bytes, offset, offset + Buffer.byteLength(text));
  return mark;
}

test('FrameMark tells frames apart by stream, length, start and end, wherever they lie in the buffer', () => {
  const long = 'a'.repeat(40) + 'middle' + 'z'.repeat(40);
  assert.ok(markOf('stdout', 'line 1').sameLastFrame(markOf('stdout', 'line 1', 7)), 'same frame at another offset');
  assert.ok(markOf('stdout', long).sameLastFrame(markOf('stdout', long, 3)));
  assert.ok(!markOf('stdout', 'line 1').sameLastFrame(markOf('stderr', 'line 1')), 'stream');
  assert.ok(!markOf('stdout', 'line 1').sameLastFrame(markOf('stdout', 'line 2')), 'content');
  assert.ok(!markOf('stdout', 'line 1').sameLastFrame(markOf('stdout', 'line 10')), 'length');
  assert.ok(!markOf('stdout', 'b' + long.slice(1)).sameLastFrame(markOf('stdout', long)), 'first byte');
  assert.ok(!markOf('stdout', long.slice(0, -1) + 'y').sameLastFrame(markOf('stdout', long)), 'last byte');
  assert.ok(!markOf('stdout', 'x').sameLastFrame(new FrameMark()), 'a frame against none');
});

test('FrameMark counts the frames it notes and keeps the last one', () => {
  const mark = new FrameMark();
  for (const line of ['one', 'two', 'three']) mark.note('stdout', Buffer.from(line), 0, line.length);
  assert.equal(mark.count, 3);
  assert.ok(mark.sameLastFrame(markOf('stdout', 'three')));
});
