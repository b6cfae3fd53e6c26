// COMMAND health checks (docs/health-checks.md): the command runs inside the task's container
// through the Engine API's exec (create, start, inspect the exit code), as `docker exec` would run
// it; exit 0 is healthy. The start is not detached: dockerd answers with the command's output and
// ends the answer when the command exits, so the check waits on one request instead of polling.
//
// A check the Docker engine could not run (it is restarting) is not counted (check-policy.ts).
// One check command at a time, ever: a command that outlived its timeout is killed
// (exec-kill.ts), and the next check first makes sure it is gone. While it is not, that check
// fails without starting another, so a hung command cannot pile execs up in the container.
import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import { EngineError, type EngineApi } from '../docker/engine-api';
import { LogDemuxer } from '../docker/log-demux';
import type { Logger } from '../logging/logger';
import type { HealthProbe, ProbeOutcome } from './check-monitor';
import { killExecTree } from './exec-kill';
import type { CheckProbeSpec } from './health-check-spec';

type CommandSpec = Extract<CheckProbeSpec, { kind: 'COMMAND' }>;
export type ExecEngine = Pick<EngineApi, 'createExec' | 'startExec' | 'inspectExec'>;

/** A bound on each Engine API call of a check (the check's own timeout bounds the whole). */
const ENGINE_CALL_MS = 10_000;
/** Output kept for the message: the end of it, where a failing command says why. */
const KEPT_OUTPUT_BYTES = 512;
/** The exit code is set as the output ends; a few short waits cover the moment between. */
const EXIT_CODE_TRIES = 10;
const EXIT_CODE_WAIT_MS = 20;

export class CommandProbe implements HealthProbe {
  readonly label: string;
  readonly #spec: CommandSpec;
  readonly #engine: ExecEngine;
  readonly #containerId: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** The last exec started and not yet seen finished. */
  #unfinished: string | undefined;

  constructor(spec: CommandSpec, deps: { engine: ExecEngine; containerId: string; clock: Clock; logger: Logger }) {
    this.#spec = spec;
    this.#engine = deps.engine;
    this.#containerId = deps.containerId;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    const text = spec.text.length > 80 ? `${spec.text.slice(0, 79)}…` : spec.text;
    this.label = `COMMAND '${text}'`;
  }

  async check(signal: AbortSignal): Promise<ProbeOutcome> {
    try {
      return await this.#check(signal);
    } catch (err) {
      // An engine that is away (restarting) is no verdict on the task: not counted, as Mesos's
      // checker discards a check the agent could not run.
      if (signal.aborted || !(err instanceof EngineError) || err.code !== 'E_ENGINE_UNREACHABLE') throw err;
      return { healthy: undefined, detail: `could not be run: ${err.message}` };
    }
  }

  async #check(signal: AbortSignal): Promise<ProbeOutcome> {
    const bounds = { timeoutMs: ENGINE_CALL_MS, signal };
    if (this.#unfinished !== undefined) {
      const previous = await this.#engine.inspectExec(this.#unfinished, bounds);
      if (previous.running) {
        this.#kill(this.#unfinished, previous.pid);
        return { healthy: false, detail: 'was not run: the previous check command is still running' };
      }
      this.#unfinished = undefined;
    }
    const execId = await this.#engine.createExec(this.#containerId, { cmd: [...this.#spec.cmd], env: [...this.#spec.env] }, bounds);
    this.#unfinished = execId;
    let output: string;
    try {
      output = await lastOutput(await this.#engine.startExec(execId, bounds), signal);
    } catch (err) {
      // The check's time is up (or checking stopped): the command must not run on.
      if (signal.aborted) void this.#killUnfinished(execId);
      throw err;
    }
    for (let i = 0; i < EXIT_CODE_TRIES; i++) {
      const state = await this.#engine.inspectExec(execId, bounds);
      if (!state.running) {
        this.#unfinished = undefined;
        const code = state.exitCode;
        if (code === 0) return { healthy: true, detail: 'exited with status 0' };
        return { healthy: false, detail: `exited with status ${code ?? 'unknown'}${output ? `: ${output}` : ''}` };
      }
      await this.#clock.sleep(EXIT_CODE_WAIT_MS, signal);
    }
    return { healthy: false, detail: 'ended its output but the Docker engine still reports it running' };
  }

  async #killUnfinished(execId: string): Promise<void> {
    try {
      const state = await this.#engine.inspectExec(execId, { timeoutMs: ENGINE_CALL_MS });
      if (state.running) this.#kill(execId, state.pid);
    } catch (err) {
      this.#logger.warn('Could not inspect a check command that outlived its timeout', { exec: execId, error: (err as Error).message });
    }
  }

  #kill(execId: string, pid: number): void {
    const result = killExecTree(pid, this.#containerId);
    if (typeof result === 'number') this.#logger.warn('Killed a check command that outlived its timeout', { exec: execId, pid, processes: result });
    else this.#logger.warn(`Could not kill a check command that outlived its timeout: ${result}`, { exec: execId, pid });
  }
}

/**
 * Reads the exec's multiplexed output to its end (the command's exit), keeping only its last
 * line; rejects when `signal` aborts, after closing the stream.
 */
function lastOutput(stream: Readable, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const demux = new LogDemuxer(1024 * 1024);
    let kept = Buffer.alloc(0);
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', aborted);
      stream.destroy();
      if (error) reject(error);
      else resolve(lastLine(kept.toString('utf8')));
    };
    const aborted = (): void => settle(new Error('the check command was abandoned'));
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    stream.on('data', (chunk: Buffer) => {
      try {
        demux.feed(chunk, 0, chunk.length, (_stream, bytes, start, end) => {
          kept = Buffer.concat([kept, bytes.subarray(Math.max(start, end - KEPT_OUTPUT_BYTES), end)]);
          if (kept.length > KEPT_OUTPUT_BYTES) kept = kept.subarray(kept.length - KEPT_OUTPUT_BYTES);
        });
      } catch (err) {
        settle(err as Error);
      }
    });
    stream.on('end', () => settle());
    stream.on('error', (err) => settle(err));
    stream.on('close', () => settle());
  });
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const line = lines.at(-1) ?? '';
  return line.length > 200 ? `…${line.slice(-199)}` : line;
}
