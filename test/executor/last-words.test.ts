import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_WORDS_MAX_BYTES, lastWordsOf } from '../../src/executor/last-words';

describe('lastWordsOf', () => {
  it('keeps the last 80 lines of short ones, without the trailing newline', () => {
    const text = Array.from({ length: 200 }, (_, i) => String(i + 1)).join('\n') + '\n\n';
    const words = lastWordsOf(text).split('\n');
    assert.equal(words.length, 80);
    assert.equal(words[0], '121');
    assert.equal(words.at(-1), '200');
  });

  it('keeps at most 2 KiB, cut at a line boundary', () => {
    const line = 'x'.repeat(99);
    const words = lastWordsOf(Array.from({ length: 50 }, (_, i) => `${line}${i % 10}`).join('\n'));
    assert.ok(Buffer.byteLength(words) <= LAST_WORDS_MAX_BYTES);
    assert.equal(words.split('\n').length, 20, '20 lines of 100 bytes and their newlines fit in 2048');
    assert.ok(words.split('\n').every((l) => l.length === 100));
    assert.ok(words.endsWith('x9'));
  });

  it('a last line longer than 2 KiB is cut to its end, marked', () => {
    const words = lastWordsOf(`short\n${'é'.repeat(3000)}END\n`);
    assert.ok(words.startsWith('…é'));
    assert.ok(words.endsWith('END'));
    assert.ok(Buffer.byteLength(words) <= LAST_WORDS_MAX_BYTES);
  });

  it('nothing printed is nothing to say; CRLF lines lose their CR', () => {
    assert.equal(lastWordsOf(''), '');
    assert.equal(lastWordsOf('\n \n'), '');
    assert.equal(lastWordsOf('a\r\nb\r\n'), 'a\nb');
  });
});
