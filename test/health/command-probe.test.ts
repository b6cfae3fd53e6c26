import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { EngineError, type ExecCommand, type ExecState } from '../../src/docker/engine-api';
import { CommandProbe, type ExecEngine } from '../../src/health/command-probe';
import { memoryLogger } from '../../src/logging/logger';
import { FakeClock } from '../support/fake-clock';

/** One frame of the Engine API's multiplexed stream. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Execs that print `output` and exit with `code`, or hang when code is 'hang'. */
class FakeExecs implements ExecEngine {
  readonly created: ExecCommand[] = [];
  readonly states = new Map<string, ExecState>();
  /** How many inspects report an exec still running after its output ended. */
  lagInspects = 0;
  /** Knob: the engine cannot be reached (it is restarting). */
  away = false;
  constructor(readonly plan: { output?: string; code: number | 'hang' }[]) {}

  async createExec(_id: string, command: ExecCommand): Promise<string> {
    if (this.away) throw new EngineError('E_ENGINE_UNREACHABLE', 'the Docker engine at unix:///var/run/docker.sock is unreachable (POST /containers/c1/exec): ECONNREFUSED (is dockerd running?)');
    this.created.push(command);
    const id = `exec-${this.created.length}`;
    this.states.set(id, { running: true, exitCode: undefined, pid: 0 });
    return id;
  }

  async startExec(execId: string): Promise<Readable> {
    const step = this.plan[Math.min(this.created.length - 1, this.plan.length - 1)]!;
    const stream = new PassThrough();
    if (step.output) stream.write(frame(2, step.output));
    if (step.code !== 'hang') {
      const code = step.code;
      stream.end();
      setImmediate(() => this.states.set(execId, { running: false, exitCode: code, pid: 0 }));
    }
    return stream;
  }

  async inspectExec(execId: string): Promise<ExecState> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.lagInspects > 0) { this.lagInspects -= 1; return { running: true, exitCode: undefined, pid: 0 }; }
    return this.states.get(execId)!;
  }
}

function probe(execs: FakeExecs) {
  const clock = new FakeClock();
  const logger = memoryLogger();
  const p = new CommandProbe({ kind: 'COMMAND', cmd: ['sh', '-c', 'check'], env: ['A=1'], text: 'check' }, { engine: execs, containerId: 'c1', clock, logger });
  return { p, clock, logger };
}

describe('CommandProbe', () => {
  it('runs the command with its environment; exit 0 is healthy', async () => {
    const execs = new FakeExecs([{ code: 0 }]);
    const { p } = probe(execs);
    assert.equal(p.label, "COMMAND 'check'");
    assert.deepEqual(await p.check(new AbortController().signal), { healthy: true, detail: 'exited with status 0' });
    assert.deepEqual(execs.created, [{ cmd: ['sh', '-c', 'check'], env: ['A=1'] }]);
  });

  it('a non-zero exit fails, with the last line of its output', async () => {
    const { p } = probe(new FakeExecs([{ code: 3, output: 'starting\nnot ready: db down\n' }]));
    assert.deepEqual(await p.check(new AbortController().signal), { healthy: false, detail: 'exited with status 3: not ready: db down' });
  });

  it('waits out the moment between the end of the output and the exit code', async () => {
    const execs = new FakeExecs([{ code: 0 }]);
    execs.lagInspects = 2;
    const { p, clock } = probe(execs);
    assert.deepEqual(await clock.run(p.check(new AbortController().signal)), { healthy: true, detail: 'exited with status 0' });
  });

  it('an engine that cannot be reached is no verdict on the task: the check is not counted', async () => {
    const execs = new FakeExecs([{ code: 0 }]);
    execs.away = true;
    const { p } = probe(execs);
    const outcome = await p.check(new AbortController().signal);
    assert.equal(outcome.healthy, undefined);
    assert.match(outcome.detail, /^could not be run: the Docker engine .* is unreachable/);
  });

  it('a command still running from a timed-out check: the next check fails without starting another', async () => {
    const execs = new FakeExecs([{ code: 'hang' }]);
    const { p, logger } = probe(execs);
    const abort = new AbortController();
    const first = p.check(abort.signal);
    await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    await assert.rejects(first, /abandoned/);
    const second = await p.check(new AbortController().signal);
    assert.deepEqual(second, { healthy: false, detail: 'was not run: the previous check command is still running' });
    assert.equal(execs.created.length, 1);
    // dockerd gave no pid here, so there is nothing the executor may kill; it says so.
    assert.match(logger.lines.join('\n'), /Could not kill a check command that outlived its timeout: the Docker engine reported no pid/);
    execs.states.set('exec-1', { running: false, exitCode: 137, pid: 0 });
    execs.plan.push({ code: 0 });
    assert.equal((await p.check(new AbortController().signal)).healthy, true);
    assert.equal(execs.created.length, 2);
  });
});
