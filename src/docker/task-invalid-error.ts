// A TaskInfo we cannot run as a container (docs/containers.md, docs/status-updates.md): the
// lifecycle turns it into TASK_FAILED with REASON_TASK_INVALID, so the message is written for the
// person who wrote the task definition and names the field that is wrong.
export class TaskInvalidError extends Error {
  readonly code = 'E_TASK_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TaskInvalidError';
  }
}
