// The disconnect tally as text tables: one row per executor run, then the totals.
//
// "Acknowledged twice" is a uuid for which the agent delivered (wrote on an open subscription)
// more than one ACKNOWLEDGED. The agent acknowledges every copy of an update it receives, a
// copy carried again in a re-SUBSCRIBE included (the real agent does, and its status update
// manager drops the duplicate, so the scheduler still sees the update once). An executor that
// forgets an update as soon as its ACK arrives re-sends it only when that ACK never reached it:
// written by the agent just before the connection broke, never read. A second delivered ACK
// with the executor having READ the first would mean it keeps or re-sends updates the agent has
// already acknowledged: its unacknowledged set is wrong, and after a terminal update it would
// wait for nothing or re-send stale updates to every future agent. "acks read" (the executor's
// own debug lines) against "acks delivered" tells the two apart.

export interface RunTally {
  worker: number;
  taskId: string;
  /** Wall time of the run, executor start to exit. */
  runMs: number;
  sleepSec: number;
  exitCodeAsked: number;
  killSent: boolean;
  disconnects: number;
  restarts: number;
  recovering: number;
  drops: number;
  /** Disconnects made right as the agent took an update. */
  atUpdate: number;
  awayMs: number;
  /** The executor logged its terminal update while the agent was away. */
  terminalWhileAway: boolean;
  states: string[];
  /** Updates the executor logged as sent. */
  sent: number;
  /** Unique uuids the agent took. */
  accepted: number;
  /** Sent, never accepted. Must be 0. */
  lost: number;
  /** Accepted, never logged as sent. Must be 0. */
  unexplained: number;
  /** Updates carried by accepted SUBSCRIBEs (copies, not unique). */
  carried: number;
  acksDelivered: number;
  acksRead: number;
  /** Uuids with more than one delivered ACKNOWLEDGED. Must be 0. */
  ackedTwice: number;
  executorExit: number | null;
  terminalAcked: boolean;
  exitedAfterAck: boolean;
  containersRunning: number;
  /** Calls the agent refused by its own rules. Must be 0. */
  rejected: number;
}

export interface TallyTotals {
  runs: number;
  disconnects: number;
  restarts: number;
  recovering: number;
  drops: number;
  atUpdate: number;
  terminalWhileAway: number;
  kills: number;
  sent: number;
  accepted: number;
  lost: number;
  unexplained: number;
  carried: number;
  acksDelivered: number;
  acksRead: number;
  ackedTwice: number;
  executorsExited: number;
  terminalAcked: number;
  exitedAfterAck: number;
  containersRunning: number;
  rejected: number;
}

export function totalsOf(runs: RunTally[]): TallyTotals {
  const sum = (f: (r: RunTally) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return {
    runs: runs.length,
    disconnects: sum((r) => r.disconnects), restarts: sum((r) => r.restarts), recovering: sum((r) => r.recovering), drops: sum((r) => r.drops),
    atUpdate: sum((r) => r.atUpdate),
    terminalWhileAway: sum((r) => Number(r.terminalWhileAway)), kills: sum((r) => Number(r.killSent)),
    sent: sum((r) => r.sent), accepted: sum((r) => r.accepted), lost: sum((r) => r.lost), unexplained: sum((r) => r.unexplained),
    carried: sum((r) => r.carried), acksDelivered: sum((r) => r.acksDelivered), acksRead: sum((r) => r.acksRead),
    ackedTwice: sum((r) => r.ackedTwice),
    executorsExited: sum((r) => Number(r.executorExit !== null)), terminalAcked: sum((r) => Number(r.terminalAcked)),
    exitedAfterAck: sum((r) => Number(r.exitedAfterAck)), containersRunning: sum((r) => r.containersRunning),
    rejected: sum((r) => r.rejected),
  };
}

function table(header: string[], rows: (string | number)[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]): string => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

export function formatTally(tally: { seed: number; wallMs: number; runs: RunTally[] }): string[] {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const perRun = table(
    ['run', 'w', 'run s', 'container', 'kill', 'disc (r/rec/d)', '@upd', 'away s', 'exit away', 'states sent', 'sent', 'accepted', 'lost',
      'carried', 'acks dlv/read', 'acked 2x', 'exec exit', 'exit 0 after ACK', 'left running'],
    tally.runs.map((r, i) => [
      i + 1, r.worker, (r.runMs / 1000).toFixed(1), `sleep ${r.sleepSec}; exit ${r.exitCodeAsked}`, yes(r.killSent),
      `${r.disconnects} (${r.restarts}/${r.recovering}/${r.drops})`, r.atUpdate, (r.awayMs / 1000).toFixed(1), yes(r.terminalWhileAway),
      r.states.join(','), r.sent, r.accepted, r.lost, r.carried, `${r.acksDelivered}/${r.acksRead}`, r.ackedTwice,
      r.executorExit ?? 'none', yes(r.exitedAfterAck), r.containersRunning,
    ]),
  );
  const t = totalsOf(tally.runs);
  const totals = table(['total', 'value'], [
    ['executor runs', t.runs],
    ['disconnects (agent restarts / restarts answering 503 first / subscription drops)', `${t.disconnects} (${t.restarts} / ${t.recovering} / ${t.drops})`],
    ['disconnects made right as the agent took an update', t.atUpdate],
    ['terminal update sent while the agent was away', t.terminalWhileAway],
    ['KILLs sent', t.kills],
    ['updates sent (executor log)', t.sent],
    ['updates accepted by the agent (unique uuids)', t.accepted],
    ['lost (sent - accepted)', t.lost],
    ['accepted but never sent', t.unexplained],
    ['updates carried in accepted SUBSCRIBEs', t.carried],
    ['ACKNOWLEDGED delivered / read by the executor', `${t.acksDelivered} / ${t.acksRead}`],
    ['uuids acknowledged twice', t.ackedTwice],
    ['executors exited', `${t.executorsExited} of ${t.runs}`],
    ['terminal updates acknowledged', `${t.terminalAcked} of ${t.runs}`],
    ['executors exited 0 after their terminal ACK', `${t.exitedAfterAck} of ${t.runs}`],
    ['containers left running', t.containersRunning],
    ['calls refused by the agent', t.rejected],
  ]);
  const legend = 'disc (r/rec/d): agent restarts / restarts answering 503 first / subscription drops; @upd: made right as the agent took an update; '
    + 'exit away: terminal update sent while the agent was away; carried: updates carried in accepted SUBSCRIBEs; '
    + 'acks dlv/read: ACKNOWLEDGED delivered by the agent / read by the executor; acked 2x: uuids with two delivered ACKs';
  return [`seed ${tally.seed}, wall time ${(tally.wallMs / 1000).toFixed(1)} s`, legend, '', ...perRun, '', ...totals];
}
