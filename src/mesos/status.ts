// Builders for UPDATE and SUBSCRIBE calls (docs/status-updates.md). The agent rejects an update
// whose uuid is not exactly 16 bytes, or whose source is not SOURCE_EXECUTOR; these builders make
// both impossible to get wrong.
import type { Call, ContainerStatus, TaskInfo, TaskReason, TaskState, TaskStatus, Update, Value } from './types';

export interface ExecutorIds { executorId: string; frameworkId: string }

/**
 * A fresh RFC 4122 version 4 UUID as the 16 raw bytes the agent wants, base64-encoded. The
 * bytes come from V8's generator (seeded from the OS's entropy per process): a status uuid must
 * be unique, not secret, and node:crypto would cost every executor about 0.75 MB.
 */
export function newStatusUuid(): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 4) bytes.writeUInt32BE(Math.floor(Math.random() * 2 ** 32), i);
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  return bytes.toString('base64');
}

export interface StatusFields { message?: string; reason?: TaskReason; healthy?: boolean; containerStatus?: ContainerStatus }

export function buildStatus(ids: ExecutorIds, taskId: string, state: TaskState, fields: StatusFields = {}, now = Date.now()): TaskStatus {
  const status: TaskStatus = {
    task_id: { value: taskId },
    state,
    source: 'SOURCE_EXECUTOR',
    executor_id: { value: ids.executorId },
    timestamp: now / 1000,
    uuid: newStatusUuid(),
  };
  if (fields.message !== undefined) status.message = fields.message;
  if (fields.reason !== undefined) status.reason = fields.reason;
  if (fields.healthy !== undefined) status.healthy = fields.healthy;
  if (fields.containerStatus !== undefined) status.container_status = fields.containerStatus;
  return status;
}

function idsOf(ids: ExecutorIds): { executor_id: Value; framework_id: Value } {
  return { executor_id: { value: ids.executorId }, framework_id: { value: ids.frameworkId } };
}

export function updateCall(ids: ExecutorIds, status: TaskStatus): Call {
  return { type: 'UPDATE', ...idsOf(ids), update: { status } };
}

export function subscribeCall(ids: ExecutorIds, tasks: TaskInfo[], updates: Update[]): Call {
  return { type: 'SUBSCRIBE', ...idsOf(ids), subscribe: { unacknowledged_tasks: tasks, unacknowledged_updates: updates } };
}
