// 100 randomised agent disconnects (test/support/disconnect-tally.ts), twenty executors at a
// time (about a minute), checkpointing on: no update lost, none acknowledged twice, every
// executor exits 0 after the ACK of its terminal update, no container left running. The tally
// is printed as diagnostics; `npm run bench:disconnects` prints the same on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTally, runDisconnectTally } from '../support/disconnect-tally';
import { totalsOf } from '../support/tally-table';

test('100 random agent disconnects: 0 updates lost, 0 acknowledged twice, every executor exits 0 after its terminal ACK, no container left', { timeout: 8 * 60_000 }, async (t) => {
  const tally = await runDisconnectTally({ disconnects: 100, parallel: 20 });
  for (const line of formatTally(tally)) t.diagnostic(line);
  const totals = totalsOf(tally.runs);
  const where = (bad: (r: (typeof tally.runs)[number]) => boolean): string =>
    `${tally.runs.filter(bad).map((r) => r.taskId).join(', ')} (seed ${tally.seed})`;
  assert.ok(totals.disconnects >= 100, `${totals.disconnects} disconnects made`);
  assert.equal(totals.lost, 0, `updates lost in ${where((r) => r.lost > 0)}`);
  assert.equal(totals.unexplained, 0, `updates accepted but never logged as sent in ${where((r) => r.unexplained > 0)}`);
  assert.equal(totals.ackedTwice, 0, `uuids acknowledged twice in ${where((r) => r.ackedTwice > 0)}`);
  assert.equal(totals.executorsExited, totals.runs, `executors that did not exit: ${where((r) => r.executorExit === null)}`);
  assert.equal(totals.terminalAcked, totals.runs, `terminal updates not acknowledged: ${where((r) => !r.terminalAcked)}`);
  assert.equal(totals.exitedAfterAck, totals.runs, `executors not exiting 0 after their ACK: ${where((r) => !r.exitedAfterAck)}`);
  assert.equal(totals.containersRunning, 0, `containers left running: ${where((r) => r.containersRunning > 0)}`);
  assert.equal(totals.rejected, 0, `calls refused by the agent: ${where((r) => r.rejected > 0)}`);
  // Each run is a whole task life as the executor told it: exactly one terminal update.
  for (const run of tally.runs) {
    assert.equal(run.states.filter((s) => /^(FINISHED|FAILED|KILLED|LOST|ERROR)$/.test(s)).length, 1, `${run.taskId}: ${run.states}`);
  }
});
