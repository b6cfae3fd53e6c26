import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration, parseMesosDuration } from '../../src/config/durations';

test('Go durations parse as time.ParseDuration does', () => {
  const cases: [string, number][] = [
    ['300ms', 300], ['1.5s', 1500], ['1m30s', 90_000], ['2h45m', 9_900_000], ['0', 0], ['3s', 3000],
    ['1us', 0.001], ['1µs', 0.001], ['1000ns', 0.001], ['-2s', -2000], ['.5s', 500], ['1h1m1s1ms', 3_661_001],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('Go durations reject what Go rejects', () => {
  for (const text of ['', '3', '1x', 's', '1.5.5s', '1 s', 'abc', '1sec', '5secs', '-']) {
    assert.equal(parseGoDuration(text), undefined, text);
  }
});

test('Mesos durations parse with their own units', () => {
  const cases: [string, number][] = [
    ['250ms', 250], ['5secs', 5000], ['15mins', 900_000], ['1hrs', 3_600_000], ['2days', 172_800_000],
    ['1weeks', 604_800_000], ['1000us', 1], ['1000000ns', 1], ['1.5secs', 1500],
  ];
  for (const [text, ms] of cases) assert.equal(parseMesosDuration(text), ms, text);
  for (const text of ['5s', '5', 'secs', '1m', '']) assert.equal(parseMesosDuration(text), undefined, text);
});

test('durations format back in Go notation', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(250), '250ms');
  assert.equal(formatGoDuration(2000), '2s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(3_600_000), '1h0m0s');
});
