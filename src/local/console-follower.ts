// Local mode shows the container's output as it runs, as `docker run` would: its log followed
// and written, as it comes, to our stdout and stderr. A LogRelay, so the lifecycle starts and
// ends it as it does the syslog relay.
import type { EngineApi, LogStream } from '../docker/engine-api';
import type { LogRelay } from '../executor/task-services';
import type { OutputStream } from '../logging/fd-writer';
import type { Logger } from '../logging/logger';

export function followToConsole(engine: Pick<EngineApi, 'containerLogs'>, containerId: string, output: { stdout: OutputStream; stderr: OutputStream }, logger: Logger): LogRelay {
  let logs: LogStream | undefined;
  let stopped = false;
  const done = (async (): Promise<void> => {
    try {
      logs = await engine.containerLogs(containerId, { follow: true, stdout: true, stderr: true });
      if (stopped) return;
      await logs.forEach((stream, bytes, start, end) => { output[stream].write(bytes.subarray(start, end)); });
    } catch (err) {
      if (!stopped) logger.warn('Could not show the container output', { error: (err as Error).message });
    } finally {
      logs?.destroy();
    }
  })();
  return {
    done,
    stop: async () => {
      stopped = true;
      logs?.destroy();
      await done;
    },
  };
}
