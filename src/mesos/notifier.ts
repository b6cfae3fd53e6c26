// Wakes sleepers when something they wait on may have changed (an ack, a re-subscription, stop),
// so retry loops neither poll nor oversleep.
export class Notifier {
  #waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify() or after ms, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => { clearTimeout(timer); this.#waiters.delete(wake); resolve(); };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.#waiters.add(wake);
    });
  }
}
