// Measuring tools shared by the benchmark sections. Memory is read the way the budget is stated:
// Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup (pages no other process shares).
import { readFileSync } from 'node:fs';
import { spawn, ChildProcess } from 'node:child_process';

/** One section of BENCHMARKS.md, produced by one benchmark module. */
export interface BenchSection {
  title: string;
  /** Markdown lines: a sentence on what was measured, then a table. */
  lines: string[];
  /** The headline figures, for the console summary. */
  figures: Record<string, number | string>;
}

export function smapsKb(pid: number): { privateKb: number; pssKb: number; rssKb: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { privateKb: field('Private_Clean') + field('Private_Dirty'), pssKb: field('Pss'), rssKb: field('Rss') };
}

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat, USER_HZ = 100). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const mb = (kb: number): string => (kb / 1024).toFixed(2);

/**
 * Idle node processes kept alive beside a lone measured process, so the node binary's pages are
 * shared as they are on an agent running many executors, and count as shared, not private.
 */
export function startSiblings(count = 2): { stop(): void } {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', "require('http'); setInterval(() => {}, 1 << 30)"], { stdio: 'ignore' }));
  }
  return { stop: () => { for (const c of children) c.kill('SIGKILL'); } };
}

export function table(header: string[], rows: (string | number)[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}
