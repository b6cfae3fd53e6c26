// An in-process AgentApi with named knobs, for driver unit tests.
import { AgentApi, AgentCallError, Subscription } from '../../src/mesos/agent-api';
import type { AgentEvent, Call } from '../../src/mesos/types';

export class FakeAgentApi implements AgentApi {
  subscribeCalls: Call[] = [];
  posts: Call[] = [];
  refuseSubscribe = false;
  /** Status codes (or 'network') for the next POSTs, consumed in order. */
  postFailures: (number | 'network')[] = [];
  autoAck = true;
  #emit: ((e: AgentEvent) => void) | undefined;
  #end: ((e: Error | undefined) => void) | undefined;

  async subscribe(call: Call, onEvent: (event: AgentEvent) => void): Promise<Subscription> {
    this.subscribeCalls.push(call);
    if (this.refuseSubscribe) throw new AgentCallError('SUBSCRIBE failed: ECONNREFUSED', undefined);
    this.#emit = onEvent;
    const closed = new Promise<Error | undefined>((resolve) => { this.#end = resolve; });
    setImmediate(() => onEvent({ type: 'SUBSCRIBED', subscribed: { framework_info: { capabilities: [] } } }));
    return { closed, close: () => this.#end?.(new Error('closed')) };
  }

  async post(call: Call): Promise<void> {
    this.posts.push(call);
    const failure = this.postFailures.shift();
    if (failure === 'network') throw new AgentCallError('UPDATE failed: ECONNREFUSED', undefined);
    if (failure !== undefined) throw new AgentCallError(`UPDATE refused by the agent: ${failure}`, failure);
    const status = call.update?.status;
    if (this.autoAck && status) setImmediate(() => this.emit({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid } }));
  }

  emit(event: AgentEvent): void { this.#emit?.(event); }
  drop(): void { this.#end?.(new Error('connection reset')); }
}

export const nextTick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await nextTick();
  }
}
