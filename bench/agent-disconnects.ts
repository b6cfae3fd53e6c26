// `npm run bench:disconnects`: 100 randomised agent disconnects against real executors and
// containers (test/support/disconnect-tally.ts), printed as a tally. A report, not a test: it
// asserts nothing, but exits 1 when an update was lost, acknowledged twice, or a container or
// executor was left behind. DISCONNECTS, PARALLEL and SEED override the defaults.
import { runDisconnectTally, formatTally } from '../test/support/disconnect-tally';
import { totalsOf } from '../test/support/tally-table';

async function main(): Promise<void> {
  const disconnects = Number(process.env.DISCONNECTS ?? 100);
  const parallel = Number(process.env.PARALLEL ?? 20);
  const seed = process.env.SEED === undefined ? undefined : Number(process.env.SEED);
  process.stderr.write(`agent disconnects: ${disconnects} over ${parallel} executors at a time\n`);
  const tally = await runDisconnectTally({ disconnects, parallel, seed, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${formatTally(tally).join('\n')}\n`);
  const t = totalsOf(tally.runs);
  const clean = t.lost === 0 && t.unexplained === 0 && t.ackedTwice === 0 && t.containersRunning === 0
    && t.executorsExited === t.runs && t.exitedAfterAck === t.runs && t.rejected === 0;
  process.exitCode = clean ? 0 : 1;
}

main().catch((err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1; });
