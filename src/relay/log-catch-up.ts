// Docker Engine 20.10 ends a follow stream early when the container exits while the reader is
// behind: measured here, a `docker logs -f` whose reader lagged got 17k and 24k of 100k lines, its
// stream ending cleanly. The relay must send every line (docs/log-relay.md), so after a clean end
// it compares the log's last entry with the last frame it relayed and, when they differ, reads the
// log again without follow and relays the frames after the ones it already had.
import type { EngineApi, LogFrameSink, LogStream } from '../docker/engine-api';
import type { StreamName } from './relay-record';

/**
 * How many frames went by, and a fingerprint of the last: its stream, length and an FNV-1a hash
 * of its first and last 32 bytes (bounded work per frame: this runs for every line relayed).
 */
export class FrameMark {
  count = 0;
  stream: StreamName = 'stdout';
  length = -1;
  hash = 0;

  readonly note = (stream: StreamName, bytes: Buffer, start: number, end: number): void => {
    let hash = 0x811c9dc5;
    const head = Math.min(end, start + 32);
    for (let i = start; i < head; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    for (let i = Math.max(head, end - 32); i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    this.count++;
    this.stream = stream;
    this.length = end - start;
    this.hash = hash >>> 0;
  };

  sameLastFrame(other: FrameMark): boolean {
    return this.stream === other.stream && this.length === other.length && this.hash === other.hash;
  }
}

/**
 * Relays, through onFrame, the frames of the container's (ended) log after the `seen.count`
 * already relayed; resolves with how many. Only when the log's last entry is not the last frame
 * seen: a complete stream costs one one-entry read. Frames are counted from the log's start, as
 * the follow stream was (no `since`); a log rotated away in between shifts the count.
 * `track` gets each opened stream, for backpressure and stop().
 */
export async function catchUpLog(
  engine: Pick<EngineApi, 'containerLogs'>, containerId: string, seen: FrameMark, onFrame: LogFrameSink, track: (logs: LogStream | undefined) => void,
): Promise<number> {
  const last = new FrameMark();
  await readAll(await engine.containerLogs(containerId, { follow: false, tail: 1 }), last.note, track);
  if (last.count === 0 || last.sameLastFrame(seen)) return 0;
  // Snapshot: onFrame may note the frames it relays in `seen` too.
  return relayLogAfter(engine, containerId, seen.count, onFrame, track, false);
}

/**
 * Reads the container's log from its start, relaying through onFrame only the frames after the
 * first `skip`; resolves with how many were relayed. With follow, the stream lasts as long as
 * the container runs: the relay resuming after a Docker engine restart (docs/faults.md).
 */
export async function relayLogAfter(
  engine: Pick<EngineApi, 'containerLogs'>, containerId: string, skip: number, onFrame: LogFrameSink,
  track: (logs: LogStream | undefined) => void, follow: boolean,
): Promise<number> {
  let index = 0;
  let relayed = 0;
  await readAll(await engine.containerLogs(containerId, { follow }), (stream, bytes, start, end) => {
    if (index++ < skip) return;
    relayed++;
    onFrame(stream, bytes, start, end);
  }, track);
  return relayed;
}

async function readAll(logs: LogStream, onFrame: LogFrameSink, track: (logs: LogStream | undefined) => void): Promise<void> {
  track(logs);
  try {
    await logs.forEach(onFrame);
  } finally {
    track(undefined);
    logs.destroy();
  }
}
