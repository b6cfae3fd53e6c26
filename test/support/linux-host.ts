// Small, synchronous helpers over the Linux host for test support code that starts real daemons:
// commands, processes read from /proc, mount points. Synchronous so that they also work in a
// process 'exit' handler, where nothing asynchronous runs any more.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export const sleepSync = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };

/** Runs a command; on failure, throws with its stderr. */
export function run(command: string, args: string[], input?: Buffer): string {
  try {
    return execFileSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed (${e.status ?? e.message}): ${e.stderr ?? ''}`.trim());
  }
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, ...]. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}

/** The process's state letter (R, S, T for stopped, Z ...), or undefined when it is gone. */
export function stateOf(pid: number): string | undefined {
  return statOf(pid)?.[0];
}

/** A process's argv, or undefined when it is gone or a zombie (which keeps its pid until reaped). */
export function argvOf(pid: number): string[] | undefined {
  const state = stateOf(pid);
  if (state === undefined || state === 'Z' || state === 'X') return undefined;
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean); } catch { return undefined; }
}

export const parentPidOf = (pid: number): number | undefined => Number(statOf(pid)?.[1]) || undefined;

export const allPids = (): number[] => fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);

export function readPidFile(file: string): number | undefined {
  try { return Number(fs.readFileSync(file, 'utf8').trim()) || undefined; } catch { return undefined; }
}

/** process.kill that ignores a process already gone. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(pid, signal); } catch { /* already gone */ }
}

/** Waits up to timeoutMs for the processes to end; returns those still alive. */
export function waitGoneSync(pids: number[], timeoutMs: number): number[] {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter((pid) => argvOf(pid));
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(50);
    alive = alive.filter((pid) => argvOf(pid));
  }
  return alive;
}

/** Mount points at or under dir in this process's mount namespace, deepest first. */
export function mountPointsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or under dir, lazily when busy; returns what failed. */
export function unmountAllUnder(dir: string): string[] {
  const problems: string[] = [];
  // Several passes: a mount point can carry stacked mounts.
  for (let pass = 0; pass < 5 && mountPointsUnder(dir).length > 0; pass++) {
    for (const mount of mountPointsUnder(dir)) {
      try { run('umount', [mount]); } catch {
        try { run('umount', ['-l', mount]); } catch (err) { problems.push((err as Error).message); }
      }
    }
  }
  return problems;
}
