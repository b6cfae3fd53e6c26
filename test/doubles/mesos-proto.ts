// mesos.proto as the agent's JSON parser (stout's protobuf.hpp) sees it: the messages an
// executor call or a LAUNCH carries, with required fields, enum names and JSON types checked as
// the real agent checks them. Split from mesos-agent.ts, which uses it to refuse what the agent
// would refuse.
// The messages reachable from an executor Call (include/mesos/v1/executor/executor.proto and
// include/mesos/v1/mesos.proto), reduced to what the parser needs: each field's JSON kind, its
// label, and, for enums, the value names. Integer kinds are all `int`: stout takes any JSON
// number for them and refuses a string ("Not expecting a JSON string for field ...").

export type ProtoObject = { [field: string]: unknown };
type Kind = 'string' | 'bytes' | 'bool' | 'double' | 'int' | { enum: readonly string[] | 'open' } | { message: () => Schema };
interface Field { kind: Kind; label: 'required' | 'optional' | 'repeated' }
export type Schema = { readonly [field: string]: Field };

const req = (kind: Kind): Field => ({ kind, label: 'required' });
const opt = (kind: Kind): Field => ({ kind, label: 'optional' });
const rep = (kind: Kind): Field => ({ kind, label: 'repeated' });
const msg = (schema: () => Schema): Kind => ({ message: schema });
const oneOf = (...names: string[]): Kind => ({ enum: names });
/** Enums whose names do not matter here; unknown values would only be dropped anyway. */
const OPEN_ENUM: Kind = { enum: 'open' };

const TASK_STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED',
  'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN'];
const REASONS = ['REASON_COMMAND_EXECUTOR_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', 'REASON_CONTAINER_LIMITATION',
  'REASON_CONTAINER_LIMITATION_DISK', 'REASON_CONTAINER_LIMITATION_MEMORY', 'REASON_CONTAINER_PREEMPTED',
  'REASON_CONTAINER_UPDATE_FAILED', 'REASON_MAX_COMPLETION_TIME_REACHED', 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT', 'REASON_EXECUTOR_TERMINATED', 'REASON_EXECUTOR_UNREGISTERED', 'REASON_FRAMEWORK_REMOVED',
  'REASON_GC_ERROR', 'REASON_INVALID_FRAMEWORKID', 'REASON_INVALID_OFFERS', 'REASON_IO_SWITCHBOARD_EXITED', 'REASON_MASTER_DISCONNECTED',
  'REASON_RECONCILIATION', 'REASON_RESOURCES_UNKNOWN', 'REASON_AGENT_DISCONNECTED', 'REASON_AGENT_REMOVED',
  'REASON_AGENT_REMOVED_BY_OPERATOR', 'REASON_AGENT_REREGISTERED', 'REASON_AGENT_RESTARTED', 'REASON_AGENT_UNKNOWN',
  'REASON_TASK_KILLED_DURING_LAUNCH', 'REASON_TASK_CHECK_STATUS_UPDATED', 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  'REASON_TASK_GROUP_INVALID', 'REASON_TASK_GROUP_UNAUTHORIZED', 'REASON_TASK_INVALID', 'REASON_TASK_UNAUTHORIZED', 'REASON_TASK_UNKNOWN'];
const CHECK_TYPES = oneOf('UNKNOWN', 'COMMAND', 'HTTP', 'TCP');
const PROTOCOL = oneOf('IPv4', 'IPv6');

const ID: Schema = { value: req('string') };
const CONTAINER_ID: Schema = { value: req('string'), parent: opt(msg(() => CONTAINER_ID)) };
const NANOS: Schema = { nanoseconds: req('int') };
const LABELS: Schema = { labels: rep(msg(() => ({ key: req('string'), value: opt('string') }))) };
const PARAMETER: Schema = { key: req('string'), value: req('string') };
const SECRET: Schema = {
  type: opt(oneOf('UNKNOWN', 'REFERENCE', 'VALUE')),
  reference: opt(msg(() => ({ name: req('string'), key: opt('string') }))),
  value: opt(msg(() => ({ data: req('bytes') }))),
};
const ENVIRONMENT: Schema = {
  variables: rep(msg(() => ({ name: req('string'), type: opt(oneOf('UNKNOWN', 'VALUE', 'SECRET')), value: opt('string'), secret: opt(msg(() => SECRET)) }))),
};
const COMMAND_INFO: Schema = {
  uris: rep(msg(() => ({ value: req('string'), executable: opt('bool'), extract: opt('bool'), cache: opt('bool'), output_file: opt('string') }))),
  environment: opt(msg(() => ENVIRONMENT)), shell: opt('bool'), value: opt('string'), arguments: rep('string'), user: opt('string'),
};
const RESERVATION: Schema = { type: opt(oneOf('UNKNOWN', 'STATIC', 'DYNAMIC')), role: opt('string'), principal: opt('string'), labels: opt(msg(() => LABELS)) };
const IMAGE: Schema = {
  type: req(oneOf('APPC', 'DOCKER')),
  appc: opt(msg(() => ({ name: req('string'), id: opt('string'), labels: opt(msg(() => LABELS)) }))),
  docker: opt(msg(() => ({ name: req('string'), credential: opt(msg(() => ({ principal: req('string'), secret: opt('string') }))), config: opt(msg(() => SECRET)) }))),
  cached: opt('bool'),
};
const VOLUME: Schema = {
  mode: req(oneOf('RW', 'RO')), container_path: req('string'), host_path: opt('string'), image: opt(msg(() => IMAGE)),
  source: opt(msg(() => ({
    type: opt(oneOf('UNKNOWN', 'DOCKER_VOLUME', 'HOST_PATH', 'SANDBOX_PATH', 'SECRET')),
    docker_volume: opt(msg(() => ({ driver: opt('string'), name: req('string'), driver_options: opt(msg(() => ({ parameter: rep(msg(() => PARAMETER)) }))) }))),
    host_path: opt(msg(() => ({ path: req('string'), mount_propagation: opt(msg(() => ({ mode: opt(oneOf('UNKNOWN', 'HOST_TO_CONTAINER', 'BIDIRECTIONAL')) }))) }))),
    sandbox_path: opt(msg(() => ({ type: opt(oneOf('UNKNOWN', 'SELF', 'PARENT')), path: req('string') }))),
    secret: opt(msg(() => SECRET)),
  }))),
};
const RESOURCE: Schema = {
  provider_id: opt(msg(() => ID)), name: req('string'), type: req(oneOf('SCALAR', 'RANGES', 'SET', 'TEXT')),
  scalar: opt(msg(() => ({ value: req('double') }))),
  ranges: opt(msg(() => ({ range: rep(msg(() => ({ begin: req('int'), end: req('int') }))) }))),
  set: opt(msg(() => ({ item: rep('string') }))),
  role: opt('string'), allocation_info: opt(msg(() => ({ role: opt('string') }))),
  reservation: opt(msg(() => RESERVATION)), reservations: rep(msg(() => RESERVATION)),
  disk: opt(msg(() => ({
    persistence: opt(msg(() => ({ id: req('string'), principal: opt('string') }))),
    volume: opt(msg(() => VOLUME)),
    source: opt(msg(() => ({
      type: req(oneOf('UNKNOWN', 'PATH', 'MOUNT', 'BLOCK', 'RAW')), path: opt(msg(() => ({ root: opt('string') }))),
      mount: opt(msg(() => ({ root: opt('string') }))), id: opt('string'), metadata: opt(msg(() => LABELS)), profile: opt('string'),
    }))),
  }))),
  revocable: opt(msg(() => ({}))), shared: opt(msg(() => ({}))),
};
const PORT_MAPPING: Schema = { host_port: req('int'), container_port: req('int'), protocol: opt('string') };
const NETWORK_INFO: Schema = {
  ip_addresses: rep(msg(() => ({ protocol: opt(PROTOCOL), ip_address: opt('string') }))), name: opt('string'), groups: rep('string'),
  labels: opt(msg(() => LABELS)), port_mappings: rep(msg(() => PORT_MAPPING)),
};
const CAPABILITIES: Schema = { capabilities: rep(OPEN_ENUM) };
const CONTAINER_INFO: Schema = {
  type: req(oneOf('DOCKER', 'MESOS')), volumes: rep(msg(() => VOLUME)), hostname: opt('string'),
  docker: opt(msg(() => ({
    image: req('string'), network: opt(oneOf('HOST', 'BRIDGE', 'NONE', 'USER')), port_mappings: rep(msg(() => PORT_MAPPING)),
    privileged: opt('bool'), parameters: rep(msg(() => PARAMETER)), force_pull_image: opt('bool'), volume_driver: opt('string'),
  }))),
  mesos: opt(msg(() => ({ image: opt(msg(() => IMAGE)) }))),
  network_infos: rep(msg(() => NETWORK_INFO)),
  linux_info: opt(msg(() => ({
    capability_info: opt(msg(() => CAPABILITIES)), bounding_capabilities: opt(msg(() => CAPABILITIES)),
    effective_capabilities: opt(msg(() => CAPABILITIES)), share_pid_namespace: opt('bool'),
  }))),
  rlimit_info: opt(msg(() => ({ rlimits: rep(msg(() => ({ type: opt(OPEN_ENUM), hard: opt('int'), soft: opt('int') }))) }))),
  tty_info: opt(msg(() => ({ window_size: opt(msg(() => ({ rows: req('int'), columns: req('int') }))) }))),
};
const DISCOVERY: Schema = {
  visibility: req(oneOf('FRAMEWORK', 'CLUSTER', 'EXTERNAL')), name: opt('string'), environment: opt('string'), location: opt('string'),
  version: opt('string'), labels: opt(msg(() => LABELS)),
  ports: opt(msg(() => ({ ports: rep(msg(() => ({
    number: req('int'), name: opt('string'), protocol: opt('string'), visibility: opt(oneOf('FRAMEWORK', 'CLUSTER', 'EXTERNAL')), labels: opt(msg(() => LABELS)),
  }))) }))),
};
const EXECUTOR_INFO: Schema = {
  type: opt(oneOf('UNKNOWN', 'DEFAULT', 'CUSTOM')), executor_id: req(msg(() => ID)), framework_id: opt(msg(() => ID)),
  command: opt(msg(() => COMMAND_INFO)), container: opt(msg(() => CONTAINER_INFO)), resources: rep(msg(() => RESOURCE)),
  name: opt('string'), source: opt('string'), data: opt('bytes'), discovery: opt(msg(() => DISCOVERY)),
  shutdown_grace_period: opt(msg(() => NANOS)), labels: opt(msg(() => LABELS)),
};
const HEALTH_CHECK: Schema = {
  delay_seconds: opt('double'), interval_seconds: opt('double'), timeout_seconds: opt('double'), consecutive_failures: opt('int'),
  grace_period_seconds: opt('double'), type: opt(CHECK_TYPES), command: opt(msg(() => COMMAND_INFO)),
  http: opt(msg(() => ({ protocol: opt(PROTOCOL), scheme: opt('string'), port: req('int'), path: opt('string'), statuses: rep('int') }))),
  tcp: opt(msg(() => ({ protocol: opt(PROTOCOL), port: req('int') }))),
};
const CHECK_INFO: Schema = {
  type: opt(CHECK_TYPES), command: opt(msg(() => ({ command: req(msg(() => COMMAND_INFO)) }))),
  http: opt(msg(() => ({ port: req('int'), path: opt('string') }))), tcp: opt(msg(() => ({ port: req('int') }))),
  delay_seconds: opt('double'), interval_seconds: opt('double'), timeout_seconds: opt('double'),
};
export const taskInfoSchema: Schema = {
  name: req('string'), task_id: req(msg(() => ID)), agent_id: req(msg(() => ID)), resources: rep(msg(() => RESOURCE)),
  executor: opt(msg(() => EXECUTOR_INFO)), command: opt(msg(() => COMMAND_INFO)), container: opt(msg(() => CONTAINER_INFO)),
  health_check: opt(msg(() => HEALTH_CHECK)), check: opt(msg(() => CHECK_INFO)),
  kill_policy: opt(msg(() => ({ grace_period: opt(msg(() => NANOS)) }))), data: opt('bytes'), labels: opt(msg(() => LABELS)),
  discovery: opt(msg(() => DISCOVERY)), max_completion_time: opt(msg(() => NANOS)),
};
const TASK_STATUS: Schema = {
  task_id: req(msg(() => ID)), state: req(oneOf(...TASK_STATES)), message: opt('string'),
  source: opt(oneOf('SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR')), reason: opt(oneOf(...REASONS)), data: opt('bytes'),
  agent_id: opt(msg(() => ID)), executor_id: opt(msg(() => ID)), timestamp: opt('double'), uuid: opt('bytes'), healthy: opt('bool'),
  check_status: opt(msg(() => ({
    type: opt(CHECK_TYPES), command: opt(msg(() => ({ exit_code: opt('int') }))), http: opt(msg(() => ({ status_code: opt('int') }))),
    tcp: opt(msg(() => ({ succeeded: opt('bool') }))),
  }))),
  labels: opt(msg(() => LABELS)),
  container_status: opt(msg(() => ({
    container_id: opt(msg(() => CONTAINER_ID)), network_infos: rep(msg(() => NETWORK_INFO)),
    cgroup_info: opt(msg(() => ({ net_cls: opt(msg(() => ({ classid: opt('int') }))) }))), executor_pid: opt('int'),
  }))),
  unreachable_time: opt(msg(() => NANOS)),
  limitation: opt(msg(() => ({ resources: rep(msg(() => RESOURCE)) }))),
};
const UPDATE: Schema = { status: req(msg(() => TASK_STATUS)) };
/** v1 executor Call, with `HEARTBEAT = 4` (added in Mesos 1.5 along with Event HEARTBEAT = 9). */
export const callSchema: Schema = {
  executor_id: req(msg(() => ID)), framework_id: req(msg(() => ID)),
  type: opt(oneOf('UNKNOWN', 'SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT')),
  subscribe: opt(msg(() => ({ unacknowledged_tasks: rep(msg(() => taskInfoSchema)), unacknowledged_updates: rep(msg(() => UPDATE)) }))),
  update: opt(msg(() => UPDATE)),
  message: opt(msg(() => ({ data: req('bytes') }))),
};

class ProtoError extends Error {}
const DROPPED = Symbol('dropped');

/**
 * stout `protobuf::parse<T>(JSON::Value)`: the fields of the message, as the agent would hold
 * them (bytes as Buffers, unknown fields and unknown optional enum values gone), or the error
 * the agent would answer with. Required fields are checked last, like `IsInitialized()`.
 */
export function parseProto(schema: Schema, json: unknown, notes: string[]): { ok: true; value: ProtoObject } | { ok: false; error: string } {
  if (!isObject(json)) return { ok: false, error: 'Expecting a JSON object' };
  try {
    const value = parseMessage(schema, json, '', notes);
    const missing: string[] = [];
    findMissing(schema, value, '', missing);
    if (missing.length > 0) return { ok: false, error: `Missing required fields: ${missing.join(', ')}` };
    return { ok: true, value };
  } catch (err) {
    if (err instanceof ProtoError) return { ok: false, error: err.message };
    throw err;
  }
}

function isObject(value: unknown): value is ProtoObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMessage(schema: Schema, json: ProtoObject, path: string, notes: string[]): ProtoObject {
  const out: ProtoObject = {};
  for (const [name, value] of Object.entries(json)) {
    const field = schema[name];
    if (!field) { notes.push(`${path}${name}: unknown field, ignored by the agent`); continue; }
    setField(field, name, value, out, `${path}${name}`, notes);
  }
  return out;
}

function setField(field: Field, name: string, value: unknown, out: ProtoObject, path: string, notes: string[]): void {
  if (value === null || value === undefined) return; // "We treat 'null' as an unset field."
  if (Array.isArray(value)) {
    if (field.label !== 'repeated') throw new ProtoError(`Not expecting a JSON array for field '${name}'`);
    for (const element of value) setField(field, name, element, out, path, notes); // nested arrays flatten, as in stout
    return;
  }
  const parsed = parseSingle(field, name, value, path, notes);
  if (parsed === DROPPED) return;
  if (field.label === 'repeated') ((out[name] ??= []) as unknown[]).push(parsed);
  else out[name] = parsed;
}

function parseSingle(field: Field, name: string, value: unknown, path: string, notes: string[]): unknown {
  const kind = field.kind;
  const refuse = (json: string): never => { throw new ProtoError(`Not expecting a JSON ${json} for field '${name}'`); };
  if (isObject(value)) return typeof kind === 'object' && 'message' in kind ? parseMessage(kind.message(), value, `${path}.`, notes) : refuse('object');
  if (typeof value === 'string') {
    if (kind === 'string') return value;
    if (kind === 'bytes') return stoutBase64Decode(value, name);
    if (typeof kind === 'object' && 'enum' in kind) {
      if (kind.enum === 'open' || kind.enum.includes(value)) return value;
      if (field.label === 'required') throw new ProtoError(`Failed to find enum for '${value}'`);
      notes.push(`${path}: unknown enum value '${value}', dropped by the agent (the field reads as unset)`);
      return DROPPED;
    }
    return refuse('string');
  }
  if (typeof value === 'number') return kind === 'double' || kind === 'int' ? value : refuse('number');
  if (typeof value === 'boolean') return kind === 'bool' ? value : refuse('boolean');
  return refuse(typeof value);
}

function findMissing(schema: Schema, value: ProtoObject, path: string, missing: string[]): void {
  for (const [name, field] of Object.entries(schema)) {
    const present = value[name];
    if (present === undefined) { if (field.label === 'required') missing.push(`${path}${name}`); continue; }
    if (typeof field.kind !== 'object' || !('message' in field.kind)) continue;
    const sub = field.kind.message();
    if (Array.isArray(present)) present.forEach((element, i) => findMissing(sub, element as ProtoObject, `${path}${name}[${i}].`, missing));
    else findMissing(sub, present as ProtoObject, `${path}${name}.`, missing);
  }
}

/**
 * stout `base64::decode` (standard alphabet): stops at the first '=', skips whitespace, refuses
 * any other non-alphabet character, and ignores a dangling 1-character group.
 */
export function stoutBase64Decode(text: string, fieldName: string): Buffer {
  let clean = '';
  for (const c of text) {
    if (c === '=') break;
    if (/\s/.test(c)) continue;
    if (!/[A-Za-z0-9+/]/.test(c)) throw new ProtoError(`Failed to base64 decode bytes field '${fieldName}': Invalid character '${c}'`);
    clean += c;
  }
  if (clean.length % 4 === 1) clean = clean.slice(0, -1);
  return Buffer.from(clean, 'base64');
}
