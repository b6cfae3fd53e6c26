import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, memoryLogger } from '../../src/log/logger';

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
