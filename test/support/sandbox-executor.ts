// The executor as a real Mesos agent runs it: its stdout and stderr are FILES in the sandbox
// (`$MESOS_SANDBOX/stdout`, `stderr`), not pipes, so a full sandbox disk makes its writes fail
// with ENOSPC. Also a small tmpfs to be that sandbox, which a test can fill and free at will,
// and the executor's CPU time read from /proc, to tell a spinning executor from an idle one.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, ftruncateSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EXECUTOR, TEST_EXECUTOR_ENV } from '../e2e/harness';
import { mountPointsUnder, run, unmountAllUnder } from './linux-host';

const CLOCK_TICKS_PER_SEC = Number(run('getconf', ['CLK_TCK']).trim()) || 100;

/** utime + stime of a process, in seconds; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat; fields[0] is field 3.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
  } catch { return undefined; }
}

/** A tmpfs of a fixed size, to be a sandbox whose disk fills up. */
export class TmpfsSandbox {
  readonly dir: string;
  readonly filler: string;

  private constructor(sizeKiB: number) {
    this.dir = mkdtempSync('/tmp/sce-sandbox-');
    this.filler = join(this.dir, 'disk-filler');
    try { run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', this.dir]); } catch (err) {
      rmSync(this.dir, { recursive: true, force: true });
      throw err;
    }
  }

  static mount(sizeKiB: number): TmpfsSandbox { return new TmpfsSandbox(sizeKiB); }

  freeBytes(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /**
   * Writes the filler until ENOSPC, then gives back `leaveBytes` (whole pages on tmpfs). A file
   * keeps the free rest of its last page, where short writes still succeed on a full disk: each
   * of `topUp` gets one line of `#` filling that rest, so its next write fails at once.
   */
  fill(leaveBytes = 0, topUp: string[] = []): void {
    const fd = openSync(this.filler, 'a');
    try {
      const chunk = Buffer.alloc(256 * 1024, 0x2e);
      for (;;) {
        try { writeSync(fd, chunk); } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
      const page = statfsSync(this.dir).bsize;
      for (const file of topUp) {
        const rest = (page - (statSync(file).size % page)) % page;
        if (rest > 0) appendFileSync(file, `${'#'.repeat(rest - 1)}\n`);
      }
      if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
    } finally { closeSync(fd); }
  }

  /** Deletes the filler: writes work again. */
  free(): void { rmSync(this.filler, { force: true }); }

  unmount(): void {
    const problems = unmountAllUnder(this.dir);
    if (problems.length > 0 || mountPointsUnder(this.dir).length > 0) throw new Error(`could not unmount ${this.dir}: ${problems.join('; ')}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The built executor with its stdout and stderr opened (O_APPEND, as the agent opens them) on
 * `stdout` and `stderr` in the sandbox. Its CPU time is sampled while it runs, so the last value
 * is still known after it exited.
 */
export class SandboxExecutor {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  signal: NodeJS.Signals | null = null;
  #lastCpu = 0;
  readonly #sampler: NodeJS.Timeout;

  constructor(readonly sandbox: string, env: Record<string, string>) {
    const out = openSync(join(sandbox, 'stdout'), 'a');
    const err = openSync(join(sandbox, 'stderr'), 'a');
    try {
      this.child = spawn(EXECUTOR, [], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...TEST_EXECUTOR_ENV, MESOS_SANDBOX: sandbox, MESOS_DIRECTORY: sandbox, ...env },
        stdio: ['ignore', out, err],
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    this.child.on('error', () => undefined); // a failed spawn: the pid check below says so
    if (this.child.pid === undefined) throw new Error(`could not start ${EXECUTOR}`);
    this.pid = this.child.pid;
    this.#sampler = setInterval(() => this.cpuSeconds(), 50).unref();
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      clearInterval(this.#sampler);
      this.signal = signal;
      resolve(code);
    }));
  }

  get running(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

  /** CPU time used so far (the last sample once the process is gone). */
  cpuSeconds(): number {
    const now = this.running ? cpuSecondsOf(this.pid) : undefined;
    if (now !== undefined) this.#lastCpu = now;
    return this.#lastCpu;
  }

  get files(): string[] { return [join(this.sandbox, 'stdout'), join(this.sandbox, 'stderr')]; }
  stdout(): string { return readOrEmpty(join(this.sandbox, 'stdout')); }
  stderr(): string { return readOrEmpty(join(this.sandbox, 'stderr')); }

  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`executor did not exit within ${timeoutMs} ms\n--- ${this.sandbox}/stderr ---\n${this.stderr().slice(-4000)}`)), timeoutMs);
    });
    try { return await Promise.race([this.exited, timeout]); } finally { clearTimeout(timer); }
  }

  kill(): void { if (this.running) this.child.kill('SIGKILL'); }
}

function readOrEmpty(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}
