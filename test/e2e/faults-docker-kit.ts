// Shared by the Docker engine fault tests (faults-docker-*.test.ts): the built executor runs its
// task on a private dockerd (test/support/private-dockerd.ts) that the test restarts, kills or
// freezes. Each file owns one engine; every test starts from a known state (running, thawed, the
// live-restore mode it needs, no containers) and puts it back that way, whatever happened.
import assert from 'node:assert/strict';
import { PrivateDockerd } from '../support/private-dockerd';
import type { TaskStatus } from '../../src/mesos/types';
import { ExecutorProcess, TEST_IMAGE, requireDocker, startRun, type Run, type RunOptions } from './harness';

export const TERMINAL_STATES = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE']);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultEngine {
  private constructor(readonly dockerd: PrivateDockerd) {}

  /** Starts a private dockerd with the test image loaded; fails loudly without Docker. */
  static async start(liveRestore: boolean): Promise<FaultEngine> {
    requireDocker();
    const dockerd = await PrivateDockerd.start({ liveRestore });
    try {
      dockerd.loadImage(TEST_IMAGE);
    } catch (err) {
      await dockerd.teardown();
      throw err;
    }
    return new FaultEngine(dockerd);
  }

  docker(...args: string[]): string { return this.dockerd.docker(...args); }
  inspect(nameOrId: string): any { return this.dockerd.inspect(nameOrId); }

  /** Running, thawed, with the asked live-restore mode and no containers (the mode is read from the engine). */
  async reset(liveRestore: boolean): Promise<void> {
    this.dockerd.thaw();
    if (this.dockerd.running && this.docker('info', '--format', '{{.LiveRestoreEnabled}}') !== String(liveRestore)) await this.dockerd.stop();
    if (!this.dockerd.running) await this.dockerd.startAgain({ liveRestore });
    const ids = this.docker('ps', '-aq').split('\n').filter(Boolean);
    if (ids.length > 0) this.docker('rm', '-f', ...ids);
  }

  /** The built executor and the agent double, with one task on this engine (network NONE: its bridge is bare). */
  startRun(label: string, options: RunOptions = {}): Promise<Run> {
    return startRun(label, {
      ...options,
      task: { network: 'NONE', ...options.task },
      env: { ...this.dockerd.env, ...options.env },
      docker: (...args) => this.docker(...args),
    });
  }

  /** The task's containers still running on this engine (the e2e.task label the harness sets). */
  runningContainers(run: Run): string[] {
    return this.docker('ps', '-q', '--filter', `label=e2e.task=${run.taskId}`).split('\n').filter(Boolean);
  }

  /** After a test: the engine back to normal first (cleanup talks to it), then the run cleaned up. */
  async settle(run: Run | undefined, liveRestore: boolean): Promise<void> {
    try { await this.reset(liveRestore); } finally { await run?.cleanup(); }
  }

  teardown(): Promise<void> { return this.dockerd.teardown(); }
}

/** The exact updates of the task: states in order, unique uuids, nothing the agent refused. */
export function assertUpdates(run: Run, states: string[]): void {
  const updates = run.agent.updates().filter((s) => s.task_id.value === run.taskId);
  assert.deepEqual(updates.map((s) => s.state), states, `updates: ${JSON.stringify(updates.map((s) => [s.state, s.message]))}`);
  assert.equal(new Set(updates.map((s) => s.uuid)).size, updates.length, 'every update has its own uuid');
  assert.deepEqual(run.agent.rejectedCalls(), []);
}

/** The task's first terminal update, whatever its state: a wrong state then fails an assertion, not a timeout. */
export function terminalUpdate(run: Run, timeoutMs = 20_000): Promise<TaskStatus> {
  return run.agent.waitForUpdate((s) => s.task_id.value === run.taskId && TERMINAL_STATES.has(s.state), timeoutMs);
}

export function assertNoTerminalUpdate(run: Run, when: string): void {
  const terminal = run.agent.updates().filter((s) => TERMINAL_STATES.has(s.state));
  assert.deepEqual(terminal.map((s) => `${s.state}: ${s.message}`), [], `no terminal update ${when}`);
}

/** Watches `ms` for a terminal update (none may come) while the engine is away or stuck. */
export async function expectNoTerminalUpdateFor(run: Run, ms: number, when: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    assertNoTerminalUpdate(run, when);
    await sleep(Math.min(100, deadline - Date.now()));
  }
  assertNoTerminalUpdate(run, when);
}

export function countOf(text: string, pattern: RegExp): number {
  return (text.match(new RegExp(pattern.source, 'g')) ?? []).length;
}

/** Resolves once the executor has logged `pattern` at least `count` times. */
export async function waitForLog(executor: ExecutorProcess, pattern: RegExp, count = 1, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (countOf(executor.output, pattern) < count) {
    if (Date.now() > deadline) throw new Error(`the executor did not log ${pattern} ${count} time(s) within ${timeoutMs} ms\n--- stderr (tail) ---\n${executor.stderr.slice(-4000)}`);
    await sleep(50);
  }
}
