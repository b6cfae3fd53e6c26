import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, memoryLogger } from '../../src/logging/logger';

test('lines look like logrus text and carry child fields', () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: { write: (l) => lines.push(l) }, now: () => new Date(0) });
  logger.child({ task: 't-1' }).info('Container running', { container: 'abc123' });
  assert.equal(lines[0], 'time="1970-01-01T00:00:00.000Z" level=info msg="Container running" task=t-1 container=abc123\n');
});

test('debug lines only with debug on', () => {
  const quiet = memoryLogger(false);
  quiet.debug('hidden');
  quiet.warn('shown');
  assert.equal(quiet.lines.length, 1);
  assert.match(quiet.lines[0], /level=warning/);
});

test('registered secrets are redacted everywhere, children included', () => {
  const logger = memoryLogger(true);
  logger.redact('s3cr3t-token');
  logger.child({ note: 'x s3cr3t-token y' }).debug('value is s3cr3t-token');
  assert.equal(logger.lines.join('').includes('s3cr3t-token'), false);
  assert.match(logger.lines[0], /\[REDACTED\]/);
});

test('EXECUTOR_LOG_FORMAT=json: one JSON object a line, time, level, msg and the fields; secrets redacted there too', () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: { write: (l) => lines.push(l) }, now: () => new Date(0), format: 'json' });
  logger.redact('pa"ss\\word');
  logger.child({ task: 't-1' }).warn('Failed Sidecar health check, but below fail limit', { fails: 2, healthy: false, skipped: undefined, note: 'pa"ss\\word' });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n'));
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: '1970-01-01T00:00:00.000Z', level: 'warning', msg: 'Failed Sidecar health check, but below fail limit', task: 't-1', fails: 2, healthy: false, note: '[REDACTED]',
  });
});

test('a secret with a quote or backslash is redacted in text lines too, where it appears escaped', () => {
  const logger = memoryLogger(true);
  logger.redact('se"cr\\et');
  logger.info('token', { value: 'se"cr\\et' });
  assert.equal(logger.lines.join('').includes('cr\\\\et'), false, logger.lines.join(''));
  assert.match(logger.lines[0]!, /value="\[REDACTED\]"/);
});

test('scrub replaces the registered secrets in any text, for status messages', () => {
  const logger = memoryLogger(true);
  logger.child({ task: 't' }).redact('s3cr3t-token');
  assert.equal(logger.scrub('DB_PASSWORD=s3cr3t-token failed'), 'DB_PASSWORD=[REDACTED] failed');
});
