// What the executor needs from the Docker Engine, in our own types (interfaces named by
// role, holding only the methods we call). Implemented over the Engine HTTP API by
// engine-client.ts; faked in unit tests.
import type { Readable } from 'node:stream';

/** Credentials for one registry, as the Engine API's X-Registry-Auth header carries them. */
export interface RegistryAuth { username?: string; password?: string; auth?: string; serveraddress?: string; identitytoken?: string }

/** The body of POST /containers/create (Engine API v1.41), only the fields we set. */
export interface CreateBody {
  Image: string;
  Cmd?: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: {
    NetworkMode: string;
    Binds?: string[];
    PortBindings?: Record<string, { HostIp?: string; HostPort: string }[]>;
    CapAdd?: string[];
    CapDrop?: string[];
    VolumeDriver?: string;
    CpuPeriod?: number;
    CpuQuota?: number;
    CpuShares?: number;
    Memory?: number;
  };
}

export interface ContainerState {
  id: string;
  running: boolean;
  exitCode: number;
  /** Docker's own word for why it stopped (OOMKilled and the like), when it has one. */
  oomKilled: boolean;
  /** Being removed (`docker rm -f`): it is dead and about to be unknown to the engine. */
  removing: boolean;
  error: string;
  labels: Record<string, string>;
  env: string[];
  /** Its addresses on its networks (NetworkSettings.Networks); none with host networking. */
  addresses?: ContainerAddress[];
}

export interface ContainerAddress { ip: string; family: 'IPv4' | 'IPv6' }

/** A command to run inside a running container (Engine API exec). */
export interface ExecCommand { cmd: string[]; env?: string[] }

/** GET /exec/{id}/json: whether it still runs, its exit code once done, its pid on the host. */
export interface ExecState { running: boolean; exitCode: number | undefined; pid: number }

export interface LogsOptions {
  sinceSec?: number;
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Only the last this many entries. */
  tail?: number;
}

/** One demultiplexed piece of container output. */
export interface LogFrame { stream: 'stdout' | 'stderr'; data: Buffer }

/** Receives one frame's bytes, `bytes[start..end)`, valid only during the call (push mode). */
export type LogFrameSink = (stream: LogFrame['stream'], bytes: Buffer, start: number, end: number) => void;

/**
 * A container's output, read either by iterating frames (one promise per frame: fine for a few)
 * or in push mode with forEach (no allocation per frame: the relay's flood path). Use one way.
 */
export interface LogStream extends AsyncIterable<LogFrame> {
  /**
   * Hands every frame to `onFrame` synchronously as its bytes arrive. Resolves at the end of
   * the stream or after destroy(); rejects as iterating would. An exception from onFrame
   * destroys the stream and rejects with it.
   */
  forEach(onFrame: LogFrameSink): Promise<void>;
  /** Push mode: stops reading (the engine keeps the output) until resume(). */
  pause(): void;
  resume(): void;
  destroy(): void;
}

export type EngineErrorCode = 'E_ENGINE_UNREACHABLE' | 'E_ENGINE_STATUS' | 'E_PULL_FAILED' | 'E_NO_SUCH_CONTAINER' | 'E_NO_SUCH_IMAGE';

export class EngineError extends Error {
  constructor(readonly code: EngineErrorCode, message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A bound on one request, or a way to abandon it (for requests that may hang on a stuck engine). */
export interface RequestBounds {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A running container as the engine lists it (GET /containers/json). */
export interface ListedContainer { id: string; name: string; labels: Record<string, string> }

export interface EngineApi {
  /** True when the image is present locally under exactly this repo:tag (`:latest` implied). */
  imageExists(image: string): Promise<boolean>;
  /** Pulls the image; rejects with E_PULL_FAILED when the engine reports an error, even mid-stream. */
  pullImage(image: string, auth?: RegistryAuth): Promise<void>;
  /** Creates a container with the given name; resolves with its full id. */
  createContainer(name: string, body: CreateBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  /**
   * Resolves with the exit code once the container stops (Engine API wait: noticed at once).
   * Unbounded unless `bounds` says otherwise: a container may run for months.
   */
  waitContainer(id: string, bounds?: RequestBounds): Promise<number>;
  inspectContainer(id: string, bounds?: RequestBounds): Promise<ContainerState>;
  /**
   * SIGTERM, then SIGKILL after timeoutSec (Engine API stop). The engine answers once the
   * container is gone; the request is bounded by timeoutSec plus a margin, or less by `bounds`.
   */
  stopContainer(id: string, timeoutSec: number, bounds?: RequestBounds): Promise<void>;
  /** Running containers carrying every one of these label keys (Engine API list, label filter). */
  listContainers(labelKeys: string[], bounds?: RequestBounds): Promise<ListedContainer[]>;
  removeContainer(id: string): Promise<void>;
  /** Output as demultiplexed frames; with follow, ends when the container stops. */
  containerLogs(id: string, options: LogsOptions): Promise<LogStream>;
  /** Creates an exec of `command` in the container, its stdout and stderr attached; its id. */
  createExec(id: string, command: ExecCommand, bounds?: RequestBounds): Promise<string>;
  /**
   * Starts the exec and resolves with its output stream (multiplexed), which ends when the
   * command exits. Destroying the stream does not stop the command: dockerd lets it run.
   */
  startExec(execId: string, bounds?: RequestBounds): Promise<Readable>;
  inspectExec(execId: string, bounds?: RequestBounds): Promise<ExecState>;
}

export type { Readable };
