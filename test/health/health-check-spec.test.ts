import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskInvalidError } from '../../src/docker/task-invalid-error';
import { healthCheckSpec } from '../../src/health/health-check-spec';
import type { HealthCheck } from '../../src/mesos/types';
import { healthCheckAsSent } from '../doubles/task-fixtures';

function invalid(check: unknown, message: RegExp): void {
  assert.throws(() => healthCheckSpec(check as HealthCheck), (err: unknown) => err instanceof TaskInvalidError && message.test(err.message));
}

describe('healthCheckSpec', () => {
  it("applies the proto's defaults when the fields are absent", () => {
    const spec = healthCheckSpec({ type: 'TCP', tcp: { port: 80 } });
    assert.deepEqual(spec.timing, { delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000, consecutiveFailures: 3, gracePeriodMs: 10_000 });
    assert.deepEqual(spec.probe, { kind: 'TCP', port: 80, family: 'IPv4' });
  });

  it('reads fractional seconds; timeout 0 is no timeout', () => {
    const spec = healthCheckSpec({ type: 'TCP', tcp: { port: 80 }, delay_seconds: 0.2, interval_seconds: 0.5, timeout_seconds: 0, grace_period_seconds: 1.5, consecutive_failures: 7 });
    assert.deepEqual(spec.timing, { delayMs: 200, intervalMs: 500, timeoutMs: Infinity, consecutiveFailures: 7, gracePeriodMs: 1500 });
  });

  it('HTTP: scheme http by default, path / by default, IPv6 when asked', () => {
    assert.deepEqual(healthCheckSpec(healthCheckAsSent({ type: 'HTTP', http: { port: 8080 } })).probe, { kind: 'HTTP', scheme: 'http', port: 8080, path: '/', family: 'IPv4' });
    assert.deepEqual(healthCheckSpec({ type: 'HTTP', http: { port: 443, scheme: 'https', path: '/ready', protocol: 'IPv6' } }).probe, { kind: 'HTTP', scheme: 'https', port: 443, path: '/ready', family: 'IPv6' });
  });

  it('COMMAND: a shell command runs under sh -c; otherwise value with arguments[1..], as execvp', () => {
    const shell = healthCheckSpec(healthCheckAsSent({ type: 'COMMAND', command: { value: 'test -f /ready', environment: { variables: [{ name: 'A', type: 'VALUE', value: '1' }] } } })).probe;
    assert.deepEqual(shell, { kind: 'COMMAND', cmd: ['sh', '-c', 'test -f /ready'], env: ['A=1'], text: 'test -f /ready' });
    const exec = healthCheckSpec({ type: 'COMMAND', command: { shell: false, value: '/bin/test', arguments: ['test', '-f', '/ready'] } }).probe;
    assert.deepEqual(exec, { kind: 'COMMAND', cmd: ['/bin/test', '-f', '/ready'], env: [], text: '/bin/test -f /ready' });
  });

  it('refuses what the master refuses, naming the field', () => {
    invalid({ http: { port: 80 } }, /health_check\.type null is not one of COMMAND, HTTP or TCP/);
    invalid({ type: 'UNKNOWN' }, /health_check\.type "UNKNOWN"/);
    invalid({ type: 'HTTP' }, /health_check\.http must be set/);
    invalid({ type: 'TCP' }, /health_check\.tcp must be set/);
    invalid({ type: 'COMMAND' }, /health_check\.command must be set/);
    invalid({ type: 'COMMAND', command: { shell: true } }, /must contain a shell command/);
    invalid({ type: 'HTTP', http: { port: 80, scheme: 'ftp' } }, /scheme "ftp" is not http or https/);
    invalid({ type: 'HTTP', http: { port: 80, path: 'health' } }, /path "health" must start with '\/'/);
    invalid({ type: 'TCP', tcp: { port: 0 } }, /health_check\.tcp\.port 0 is not a port number/);
    invalid({ type: 'TCP', tcp: { port: 80 }, interval_seconds: -1 }, /interval_seconds must not be negative/);
    invalid({ type: 'TCP', tcp: { port: 80 }, consecutive_failures: 1.5 }, /consecutive_failures 1\.5/);
  });
});
