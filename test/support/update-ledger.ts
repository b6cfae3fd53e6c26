// What happened to each status update of one executor, by uuid, from both sides: what the
// executor says it sent (its "Sending status update" log lines) and what the agent double took
// (accepted UPDATE calls, and the unacknowledged updates carried by SUBSCRIBE calls it accepted:
// the agent processes those as updates too). "Sent" is always the executor's own word, so an
// update that never reached the agent shows up as lost instead of vanishing from both counts.
import type { MesosAgentDouble } from '../doubles/mesos-agent';

export interface SentUpdate { uuid: string; state: string }

export interface UpdateLedger {
  /** In the order the executor logged them. */
  sent: SentUpdate[];
  /** Unique uuids the agent accepted, in the order it first accepted each, with its state. */
  accepted: SentUpdate[];
  /** Sent but never accepted by the agent. Must be empty. */
  lost: SentUpdate[];
  /** Accepted by the agent but never logged as sent (a parsing or bookkeeping error). */
  unexplained: SentUpdate[];
  /** ACKNOWLEDGED events written to an open subscription, per uuid. */
  deliveredAcks: Map<string, number>;
  /** Uuids whose ACKNOWLEDGED went out more than once (see disconnect-tally.ts for what it means). */
  ackedTwice: string[];
  /** How many accepted SUBSCRIBE calls carried each uuid. */
  carried: Map<string, number>;
}

/** Base64 and hex spellings of the same 16 bytes compare equal through this key. */
export const uuidKey = (base64: string): string => Buffer.from(base64, 'base64').toString('hex');

/** Logrus text fields: `key=value` or `key="json string"`. */
export function logFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    fields[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) as string : m[2];
  }
  return fields;
}

/** The updates the executor logged as sent, for one task (or all when taskId is omitted). */
export function sentUpdates(executorLog: string, taskId?: string): SentUpdate[] {
  return executorLog.split('\n')
    .filter((line) => line.includes('msg="Sending status update"'))
    .map(logFields)
    .filter((f) => taskId === undefined || f.task === taskId)
    .map((f) => ({ uuid: uuidKey(f.uuid), state: f.state }));
}

export function updateLedger(agent: MesosAgentDouble, executorLog: string, taskId?: string): UpdateLedger {
  const sent = sentUpdates(executorLog, taskId);
  const accepted = new Map<string, string>();
  const carried = new Map<string, number>();
  const take = (status: { uuid: string; state: string; task_id: { value: string } }): void => {
    if (taskId !== undefined && status.task_id.value !== taskId) return;
    const key = uuidKey(status.uuid);
    if (!accepted.has(key)) accepted.set(key, status.state);
  };
  for (const call of agent.calls()) {
    const body = call.body as any;
    if (call.type === 'UPDATE' && call.status === 202) take(body.update.status);
    if (call.type === 'SUBSCRIBE' && call.status === 200) {
      for (const update of body.subscribe?.unacknowledged_updates ?? []) {
        take(update.status);
        const key = uuidKey(update.status.uuid);
        carried.set(key, (carried.get(key) ?? 0) + 1);
      }
    }
  }
  const deliveredAcks = new Map<string, number>();
  for (const ack of agent.acknowledgements()) {
    if (!ack.delivered || (taskId !== undefined && ack.taskId !== taskId)) continue;
    const key = uuidKey(ack.uuid);
    deliveredAcks.set(key, (deliveredAcks.get(key) ?? 0) + 1);
  }
  const sentKeys = new Set(sent.map((u) => u.uuid));
  return {
    sent,
    accepted: [...accepted].map(([uuid, state]) => ({ uuid, state })),
    lost: sent.filter((u) => !accepted.has(u.uuid)),
    unexplained: [...accepted].filter(([uuid]) => !sentKeys.has(uuid)).map(([uuid, state]) => ({ uuid, state })),
    deliveredAcks,
    ackedTwice: [...deliveredAcks].filter(([, n]) => n > 1).map(([uuid]) => uuid),
    carried,
  };
}

/** The states the agent saw, one per uuid, in the order it first took each. */
export function acceptedStates(ledger: UpdateLedger): string[] {
  return ledger.accepted.map((u) => u.state);
}

/** The carried updates of the `n`-th accepted SUBSCRIBE (1 = the first), as sent. */
export function carriedBy(agent: MesosAgentDouble, n: number): { uuid: string; state: string }[] {
  const call = agent.subscribeCalls()[n - 1];
  const updates = (call?.body as any)?.subscribe?.unacknowledged_updates ?? [];
  return updates.map((u: any) => ({ uuid: uuidKey(u.status.uuid), state: u.status.state as string }));
}
