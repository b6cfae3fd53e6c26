// Pulls with up to 5 attempts, as the Go original does (docs/containers.md): registries hiccup.
import type { Clock } from '../clock';
import type { EngineApi, RegistryAuth } from '../docker/engine-api';
import type { Logger } from '../logging/logger';

export const PULL_ATTEMPTS = 5;

export async function pullWithRetries(engine: EngineApi, image: string, auth: RegistryAuth | undefined, logger: Logger, clock: Clock, delayMs = 1000): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      logger.info(`Pulling Docker image '${image}'`, { attempt });
      await engine.pullImage(image, auth);
      logger.info('Pulled.', { image });
      return;
    } catch (err) {
      logger.warn('Pull failed', { image, attempt, error: (err as Error).message });
      if (attempt >= PULL_ATTEMPTS) throw new Error(`${(err as Error).message} (after ${PULL_ATTEMPTS} attempts)`, { cause: err });
      await clock.sleep(delayMs);
    }
  }
}
