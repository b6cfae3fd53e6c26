// A Clock whose time moves only when a test says so, so a minute of SidecarBackoff and half an
// hour of polling run in milliseconds. Sleepers wake in due order; between wake-ups the real
// event loop gets a turn, so promise chains (and real socket I/O) run as they would.
import type { Clock } from '../../src/clock';

interface Sleeper { due: number; seq: number; resolve: () => void }

/** One real turn of the event loop: every queued microtask and ready I/O callback runs. */
export function realTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];
  /** Every sleep asked for, in order, with the virtual time it was asked at. */
  readonly sleeps: { at: number; ms: number }[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push({ at: this.#now, ms });
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = { due: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => undefined };
      const onAbort = (): void => { this.#drop(sleeper); resolve(); };
      sleeper.resolve = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Sleeps not yet due nor aborted. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, waking each sleeper at its due time, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await realTurn();
    for (;;) {
      const next = this.#earliest();
      if (!next || next.due > target) break;
      this.#now = next.due;
      this.#drop(next);
      next.resolve();
      await realTurn();
    }
    this.#now = target;
    await realTurn();
  }

  /** Moves time to the next sleeper's due time and wakes it; false when nobody sleeps. */
  async wakeNext(): Promise<boolean> {
    await realTurn();
    const next = this.#earliest();
    if (!next) return false;
    await this.advance(next.due - this.#now);
    return true;
  }

  /** Waits (in real time, up to `timeoutMs`) until at least `count` sleepers are pending. */
  async untilSleeping(count = 1, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#sleepers.length < count) {
      if (Date.now() > deadline) throw new Error(`FakeClock: expected ${count} sleeper(s), have ${this.#sleepers.length}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Drives `promise` to completion: while it is pending, waits for real I/O and, whenever
   * somebody sleeps, jumps virtual time to the earliest wake-up. For code under test whose only
   * waits are real I/O and this clock.
   */
  async run<T>(promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
    let settled = false;
    promise.then(() => { settled = true; }, () => { settled = true; });
    const deadline = Date.now() + timeoutMs;
    while (!settled) {
      if (Date.now() > deadline) throw new Error('FakeClock.run: the promise did not settle');
      await realTurn();
      if (settled) break;
      if (!(await this.wakeNext())) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return promise;
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) if (!best || s.due < best.due || (s.due === best.due && s.seq < best.seq)) best = s;
    return best;
  }

  #drop(sleeper: Sleeper): void {
    const i = this.#sleepers.indexOf(sleeper);
    if (i >= 0) this.#sleepers.splice(i, 1);
  }
}
