// 100 randomised agent disconnects against real executors and containers
// (test/support/disconnect-tally.ts): a section of `npm run bench` (BENCH_ONLY=disconnects), and
// `npm run bench:disconnects` alone, which prints every run and exits 1 when an update was lost,
// acknowledged twice, or a container or executor was left behind. A report, not a test.
// DISCONNECTS, PARALLEL and SEED override the defaults.
import { runDisconnectTally, formatTally } from '../test/support/disconnect-tally';
import { totalsOf } from '../test/support/tally-table';
import type { BenchSection } from './bench-kit';
import { table } from './bench-kit';

async function tally(log?: (line: string) => void): Promise<Awaited<ReturnType<typeof runDisconnectTally>>> {
  const disconnects = Number(process.env.DISCONNECTS ?? 100);
  const parallel = Number(process.env.PARALLEL ?? 20);
  const seed = process.env.SEED === undefined ? undefined : Number(process.env.SEED);
  return runDisconnectTally({ disconnects, parallel, seed, log });
}

export async function agentDisconnectsBench(): Promise<BenchSection> {
  const result = await tally();
  const t = totalsOf(result.runs);
  return {
    title: 'Agent disconnects',
    lines: [
      `${t.disconnects} disconnects of the agent double (0.3–9 s away, at random moments, ${t.atUpdate} of them right as it took an update, `
      + `${t.terminalWhileAway} across a container's exit) over ${t.runs} executors, 20 at a time, each running a task that exits at a random time `
      + `(some killed), with checkpointing. "Sent" is what the executors logged as sent; "accepted" what the agent took, by uuid, in UPDATE calls `
      + 'or carried in a re-SUBSCRIBE. Reproduce with `npm run bench:disconnects` (every run listed), or the test `test/e2e/agent-disconnects.test.ts`.',
      '',
      ...table(['figure', 'value', 'goal'], [
        ['updates sent / accepted', `${t.sent} / ${t.accepted}`, '-'],
        ['updates lost', t.lost, '0'],
        ['uuids acknowledged twice', t.ackedTwice, '0'],
        ['executors that exited 0 after their terminal ACK', `${t.exitedAfterAck} of ${t.runs}`, 'all'],
        ['containers left running', t.containersRunning, '0'],
      ]),
    ],
    figures: { disconnects: t.disconnects, sent: t.sent, lost: t.lost, ackedTwice: t.ackedTwice, exitedAfterAck: t.exitedAfterAck, runs: t.runs },
  };
}

async function main(): Promise<void> {
  const result = await tally((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${formatTally(result).join('\n')}\n`);
  const t = totalsOf(result.runs);
  const clean = t.lost === 0 && t.unexplained === 0 && t.ackedTwice === 0 && t.containersRunning === 0
    && t.executorsExited === t.runs && t.exitedAfterAck === t.runs && t.rejected === 0;
  process.exitCode = clean ? 0 : 1;
}

if (require.main === module) main().catch((err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1; });
