import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { sha1 } from '../../src/docker/sha1';

test('SHA-1 matches node:crypto on the FIPS vectors and every length around block boundaries', () => {
  assert.equal(sha1(Buffer.from('abc')).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(sha1(Buffer.alloc(0)).toString('hex'), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  for (let length = 0; length < 200; length++) {
    const data = randomBytes(length);
    assert.equal(sha1(data).toString('hex'), createHash('sha1').update(data).digest('hex'), `length ${length}`);
  }
  const big = randomBytes(100_000);
  assert.equal(sha1(big).toString('hex'), createHash('sha1').update(big).digest('hex'));
});
