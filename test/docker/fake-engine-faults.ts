// An in-process EngineApi for the wait, inspect and stop calls, with named knobs for the faults
// of docs/faults.md: an engine that restarts (waits break), hangs (calls never answer) or forgets
// the container. Each call is recorded with the fake clock's time.
import { EngineError, type ContainerState, type RequestBounds } from '../../src/docker/engine-api';
import type { FakeClock } from '../support/fake-clock';

type Pending = { resolve: (code: number) => void; reject: (err: Error) => void };

export class FaultyEngine {
  /** Knob: every call fails as if the engine's socket refused connections. */
  away = false;
  /** Knob: calls never answer (a SIGSTOPped dockerd) until their bound or signal. */
  hung = false;
  /** Knob: the engine no longer knows the container. */
  forgotten = false;
  /** Knob: wait answers this HTTP status error at once (an engine refusing waits). */
  waitFailsWith: number | undefined;
  running = true;
  exitCode = 0;
  oomKilled = false;
  /** Knob: being removed (`docker rm -f` killed it and is deleting it). */
  removing = false;
  readonly calls: { at: number; call: string; timeoutMs?: number }[] = [];
  readonly #waits = new Set<Pending>();

  constructor(readonly clock: FakeClock) {}

  /** The container exits: pending waits answer, as dockerd's wait does. */
  exit(code: number): void {
    this.running = false;
    this.exitCode = code;
    for (const w of this.#waits) w.resolve(code);
    this.#waits.clear();
  }

  /** The engine restarts: every pending wait breaks (ECONNRESET). */
  breakWaits(): void {
    for (const w of this.#waits) w.reject(unreachable('ECONNRESET'));
    this.#waits.clear();
  }

  waitContainer(id: string, bounds: RequestBounds = {}): Promise<number> {
    this.#record('wait', bounds);
    return this.#answer(bounds, async () => {
      if (this.waitFailsWith !== undefined) throw new EngineError('E_ENGINE_STATUS', `waiting for container ${id}: the Docker engine answered ${this.waitFailsWith}`, this.waitFailsWith);
      if (!this.running) return Promise.resolve(this.exitCode);
      return new Promise<number>((resolve, reject) => {
        const pending = { resolve, reject };
        this.#waits.add(pending);
        bounds.signal?.addEventListener('abort', () => { this.#waits.delete(pending); reject(unreachable('abandoned')); }, { once: true });
      });
    });
  }

  inspectContainer(id: string, bounds: RequestBounds = {}): Promise<ContainerState> {
    this.#record('inspect', bounds);
    return this.#answer(bounds, async () => ({
      id, running: this.running, exitCode: this.running ? 0 : this.exitCode, oomKilled: this.oomKilled, removing: this.removing, error: '', labels: {}, env: [],
    }));
  }

  stopContainer(_id: string, timeoutSec: number, bounds: RequestBounds = {}): Promise<void> {
    // Bounded as the engine client bounds it: the stop timeout plus 10 s, or less by the caller.
    const bounded = { ...bounds, timeoutMs: Math.min(bounds.timeoutMs ?? Infinity, timeoutSec * 1000 + 10_000) };
    this.#record(`stop t=${timeoutSec}`, bounded);
    return this.#answer(bounded, async () => { if (this.running) this.exit(timeoutSec === 0 ? 137 : 143); });
  }

  #record(call: string, bounds: RequestBounds): void {
    this.calls.push({ at: this.clock.now(), call, timeoutMs: bounds.timeoutMs });
  }

  /** Applies the knobs, then `work`; a hung call ends only by its bound or signal. */
  #answer<T>(bounds: RequestBounds, work: () => Promise<T>): Promise<T> {
    if (this.hung) {
      return new Promise<T>((_resolve, reject) => {
        const fail = (): void => reject(new EngineError('E_ENGINE_UNREACHABLE', 'the Docker engine did not answer in time'));
        if (bounds.timeoutMs !== undefined) void this.clock.sleep(bounds.timeoutMs, bounds.signal).then(fail);
        bounds.signal?.addEventListener('abort', fail, { once: true });
      });
    }
    if (this.away) return Promise.reject(unreachable('ECONNREFUSED'));
    if (this.forgotten) return Promise.reject(new EngineError('E_NO_SUCH_CONTAINER', 'No such container', 404));
    return work();
  }
}

function unreachable(why: string): EngineError {
  return new EngineError('E_ENGINE_UNREACHABLE', `the Docker engine at unix:///var/run/docker.sock is unreachable: ${why}`);
}
