// On a non-zero exit the container's own recent output is copied to the executor's stdout and
// stderr, so it lands in the Mesos sandbox logs (docs/status-updates.md). On a full sandbox
// disk the copy stops at the first write that fails: the rest would fail too, and the
// terminal update waits.
import type { Clock } from '../clock';
import { EngineError, type EngineApi } from '../docker/engine-api';
import type { OutputStream } from '../logging/fd-writer';
import type { Logger } from '../logging/logger';

export interface TaskOutput { stdout: OutputStream; stderr: OutputStream }

/**
 * Copies until the output ends, a write fails, or `signal` aborts (the copy's time is up).
 * 'unreachable': the engine could not be asked at all (it is restarting): worth another try.
 */
export async function copyFailureLogs(
  engine: EngineApi, containerId: string, logsSinceMs: number, output: TaskOutput, logger: Logger, signal?: AbortSignal,
): Promise<'copied' | 'unreachable' | 'failed'> {
  let copying = false;
  try {
    const sinceSec = Math.floor((Date.now() - logsSinceMs) / 1000);
    logger.info('Copying the container logs to the sandbox', { since_sec: sinceSec });
    const frames = await engine.containerLogs(containerId, { sinceSec, stdout: true, stderr: true });
    copying = true;
    if (signal?.aborted) { frames.destroy(); return 'failed'; }
    signal?.addEventListener('abort', () => frames.destroy(), { once: true });
    for await (const frame of frames) {
      if (signal?.aborted) return 'failed';
      if (!(frame.stream === 'stderr' ? output.stderr : output.stdout).write(frame.data)) {
        logger.warn('Stopped copying the container logs: the sandbox output cannot be written', { stream: frame.stream });
        return 'failed'; // leaving the loop destroys the log stream
      }
    }
    return 'copied';
  } catch (err) {
    logger.error('Could not copy the container logs', { error: (err as Error).message });
    return !copying && err instanceof EngineError && err.code === 'E_ENGINE_UNREACHABLE' ? 'unreachable' : 'failed';
  }
}

/** How long the copy may take at most: the terminal update waits for it. */
const FAILURE_LOG_COPY_MS = 30_000;

/**
 * copyFailureLogs within `ms` (at most FAILURE_LOG_COPY_MS). An engine that stops its containers
 * as it shuts down answers the wait and then goes away: the copy is tried again until it comes
 * back, within the bound.
 */
export async function copyFailureLogsWithin(
  engine: EngineApi, containerId: string, logsSinceMs: number, output: TaskOutput, logger: Logger, clock: Clock, ms: number,
): Promise<void> {
  const bound = new AbortController();
  const copying = (async (): Promise<void> => {
    for (let attempt = 0; !bound.signal.aborted; attempt++) {
      if (await copyFailureLogs(engine, containerId, logsSinceMs, output, logger, bound.signal) !== 'unreachable') return;
      await clock.sleep(Math.min(5000, 500 * 2 ** attempt), bound.signal);
    }
  })();
  await Promise.race([copying, clock.sleep(Math.max(0, Math.min(FAILURE_LOG_COPY_MS, ms)), bound.signal)]);
  bound.abort();
}
