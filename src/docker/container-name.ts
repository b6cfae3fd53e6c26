// The container's name (docs/containers.md): `mesos-` + the RFC 4122 version 5 UUID of the task id
// in the nil namespace, exactly as the Go original's uuid.NewSHA1(uuid.NIL, taskId). The name must
// match byte for byte: the wrapper script, dashboards and the Mesos agent's own Docker cleanup
// find our containers by it, and a task id may hold characters Docker refuses in names.
import { sha1 } from './sha1';

const NIL_NAMESPACE = Buffer.alloc(16);

/** RFC 4122 §4.3: SHA-1 over namespace bytes then name bytes, stamped version 5, variant 10. */
function uuidV5(name: Buffer, namespace: Buffer): string {
  const hash = sha1(Buffer.concat([namespace, name]));
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function containerNameForTask(taskId: string): string {
  return `mesos-${uuidV5(Buffer.from(taskId, 'utf8'), NIL_NAMESPACE)}`;
}
