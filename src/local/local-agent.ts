// Local mode (`sidecar-executor local <task.json>`): plays the agent's side in-process for one
// TaskInfo, so an operator can dry-run a task definition against the local Docker engine. It is
// an AgentApi like the HTTP one, so the run goes through the same driver and lifecycle.
import type { AgentApi, Subscription } from '../mesos/agent-api';
import type { AgentEvent, Call, TaskInfo, TaskStatus } from '../mesos/types';
import { TERMINAL_STATES } from '../mesos/types';

export class LocalAgent implements AgentApi {
  #emit: ((event: AgentEvent) => void) | undefined;
  #close: (() => void) | undefined;
  lastTerminal: TaskStatus | undefined;

  constructor(readonly task: TaskInfo, readonly print: (line: string) => void) {}

  async subscribe(_call: Call, onEvent: (event: AgentEvent) => void): Promise<Subscription> {
    this.#emit = onEvent;
    const closed = new Promise<Error | undefined>((resolve) => { this.#close = () => resolve(undefined); });
    setImmediate(() => {
      onEvent({ type: 'SUBSCRIBED', subscribed: { framework_info: { name: 'local', user: 'root', capabilities: [{ type: 'TASK_KILLING_STATE' }] } } });
      onEvent({ type: 'LAUNCH', launch: { task: this.task } });
    });
    return { closed, close: () => this.#close?.() };
  }

  async post(call: Call): Promise<void> {
    const status = call.update?.status;
    if (call.type !== 'UPDATE' || !status) return;
    const health = status.healthy === undefined ? '' : status.healthy ? ' (healthy)' : ' (unhealthy)';
    const reason = status.reason ? ` [${status.reason}]` : '';
    this.print(`${new Date().toISOString()} ${status.state}${health}${reason}${status.message ? ': ' + status.message : ''}`);
    if (TERMINAL_STATES.has(status.state)) this.lastTerminal = status;
    setImmediate(() => this.#emit?.({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid } }));
  }

  /** Ctrl-C: a KILL, as a scheduler would send. */
  kill(): void {
    this.#emit?.({ type: 'KILL', kill: { task_id: this.task.task_id } });
  }
}
