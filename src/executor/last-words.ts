// The container's last words in the terminal message (docs/status-updates.md), as the kubelet's
// FallbackToLogsOnError puts them in the termination message: on a non-zero exit, the tail of its
// output, at most 2 KiB or 80 lines, whichever is less, cut at a line boundary. Read once, after
// the exit, with the Engine API logs' `tail` (nothing is kept while the task runs), bounded in
// time by the caller's signal. The full copy into the sandbox is copyFailureLogs's.
import type { Clock } from '../clock';
import type { EngineApi } from '../docker/engine-api';
import type { Logger } from '../logging/logger';

export const LAST_WORDS_MAX_BYTES = 2048;
export const LAST_WORDS_MAX_LINES = 80;
/** Output kept while reading: enough to cut 2 KiB at a line boundary, bounded whatever the lines. */
const KEPT_CHARS = 4 * LAST_WORDS_MAX_BYTES;

/** readLastWords within `ms`: undefined when it printed nothing, or it cannot be read in time. */
export async function readLastWordsWithin(engine: Pick<EngineApi, 'containerLogs'>, containerId: string, ms: number, clock: Clock, logger: Logger): Promise<string | undefined> {
  if (!(ms > 0)) return undefined;
  const bound = new AbortController();
  const reading = readLastWords(engine, containerId, bound.signal).catch((err: Error) => {
    logger.warn('Could not read the container\'s last output for the terminal message', { error: err.message });
    return undefined;
  });
  const words = await Promise.race([reading, clock.sleep(ms, bound.signal).then(() => undefined)]);
  bound.abort();
  // A container may print its secrets (Vault values, AWS keys); the status update leaves the agent.
  return words === undefined ? undefined : logger.scrub(words);
}

/** The tail of the container's output, or undefined when it printed nothing (or it cannot be read). */
export async function readLastWords(engine: Pick<EngineApi, 'containerLogs'>, containerId: string, signal: AbortSignal): Promise<string | undefined> {
  // Docker's `tail` counts log entries, one per line (a line over 16 KiB is several).
  const frames = await engine.containerLogs(containerId, { tail: LAST_WORDS_MAX_LINES, stdout: true, stderr: true });
  if (signal.aborted) { frames.destroy(); return undefined; }
  const destroy = (): void => frames.destroy();
  signal.addEventListener('abort', destroy, { once: true });
  let text = '';
  try {
    for await (const frame of frames) {
      text += frame.data.toString('utf8');
      if (text.length > KEPT_CHARS) text = text.slice(-KEPT_CHARS);
    }
  } catch {
    // Cut short (time is up, or the engine went away): what arrived is still worth showing.
  } finally {
    signal.removeEventListener('abort', destroy);
  }
  const words = lastWordsOf(text);
  return words === '' ? undefined : words;
}

/** Pure: the last lines of `text` within the bounds; one longer line is cut to its end, marked with `…`. */
export function lastWordsOf(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < LAST_WORDS_MAX_LINES; i--) {
    const line = lines[i]!.replace(/\r$/, '');
    const size = Buffer.byteLength(line, 'utf8') + (kept.length > 0 ? 1 : 0);
    if (bytes + size > LAST_WORDS_MAX_BYTES) {
      if (kept.length === 0) kept.push(`…${tailOfLine(line, LAST_WORDS_MAX_BYTES - 3)}`);
      break;
    }
    kept.push(line);
    bytes += size;
  }
  return kept.reverse().join('\n');
}

/** The end of one line within `maxBytes` of UTF-8, never splitting a character. */
function tailOfLine(line: string, maxBytes: number): string {
  let start = line.length;
  let bytes = 0;
  while (start > 0) {
    const size = Buffer.byteLength(line[start - 1]!, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    start -= 1;
  }
  // Never the second half of a surrogate pair alone.
  if (start < line.length && /[\uDC00-\uDFFF]/.test(line[start]!)) start += 1;
  return line.slice(start);
}
