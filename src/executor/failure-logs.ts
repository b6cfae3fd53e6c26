// On a non-zero exit the container's own recent output is copied to the executor's stdout and
// stderr, so it lands in the Mesos sandbox logs (CONTRACT §5).
import type { EngineApi } from '../docker/engine-api';
import type { Logger } from '../log/logger';

export async function copyFailureLogs(
  engine: EngineApi, containerId: string, logsSinceMs: number,
  output: { stdout: { write(b: Buffer | string): unknown }; stderr: { write(b: Buffer | string): unknown } },
  logger: Logger,
): Promise<void> {
  try {
    const sinceSec = Math.floor((Date.now() - logsSinceMs) / 1000);
    logger.info('Copying the container logs to the sandbox', { since_sec: sinceSec });
    const frames = await engine.containerLogs(containerId, { sinceSec, stdout: true, stderr: true });
    for await (const frame of frames) (frame.stream === 'stderr' ? output.stderr : output.stdout).write(frame.data);
  } catch (err) {
    logger.error('Could not copy the container logs', { error: (err as Error).message });
  }
}
