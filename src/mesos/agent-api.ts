// The agent's v1 executor API as the driver needs it (docs/status-updates.md). HttpAgentApi speaks
// it over HTTP; local mode (src/local/) implements the same interface in-process.
import type { IncomingMessage } from 'node:http';
import { HttpError, bodySnippet, readErrorBody, request, requestStream } from '../http/http-request';
import { RecordIODecoder } from './recordio';
import type { AgentEvent, Call } from './types';

export interface Subscription {
  /** Resolves when the event stream ends: undefined for a clean end, else why it broke. */
  readonly closed: Promise<Error | undefined>;
  close(): void;
}

export interface AgentApi {
  /** Opens the SUBSCRIBE stream; each decoded event goes to onEvent, in order. */
  subscribe(call: Call, onEvent: (event: AgentEvent) => void): Promise<Subscription>;
  /** Sends a non-SUBSCRIBE call; rejects with AgentCallError unless the agent answers 202. */
  post(call: Call): Promise<void>;
}

export class AgentCallError extends Error {
  readonly code = 'E_AGENT_CALL';
  constructor(message: string, readonly status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
  }
  /** 4xx means the agent will never accept this call as it is; the rest may pass later. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500;
  }
}

export class HttpAgentApi implements AgentApi {
  readonly #url: string;
  readonly #headers: Record<string, string>;

  constructor(agentEndpoint: string, authToken: string | undefined, readonly callTimeoutMs = 10_000) {
    this.#url = `http://${agentEndpoint}/api/v1/executor`;
    this.#headers = { 'content-type': 'application/json', accept: 'application/json' };
    // Agents with executor authentication refuse calls without it (docs/status-updates.md).
    if (authToken) this.#headers.authorization = `Bearer ${authToken}`;
  }

  async subscribe(call: Call, onEvent: (event: AgentEvent) => void): Promise<Subscription> {
    let res: IncomingMessage;
    try {
      res = await requestStream({ method: 'POST', url: this.#url, headers: this.#headers, body: JSON.stringify(call), timeoutMs: this.callTimeoutMs });
    } catch (err) {
      throw new AgentCallError(`SUBSCRIBE failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (res.statusCode !== 200) {
      const body = await readErrorBody(res);
      throw new AgentCallError(`SUBSCRIBE refused by the agent: ${res.statusCode} ${bodySnippet(body)}`, res.statusCode);
    }
    const decoder = new RecordIODecoder();
    const closed = new Promise<Error | undefined>((resolve) => {
      res.on('data', (chunk: Buffer) => {
        try {
          for (const record of decoder.push(chunk)) onEvent(JSON.parse(record.toString('utf8')) as AgentEvent);
        } catch (err) {
          res.destroy(err as Error);
        }
      });
      res.on('error', (err) => resolve(err));
      res.on('aborted', () => resolve(new Error('the agent closed the subscription')));
      res.on('close', () => resolve(res.complete ? undefined : new Error('the subscription connection closed')));
    });
    return { closed, close: () => res.destroy() };
  }

  async post(call: Call): Promise<void> {
    let status: number;
    let body: Buffer;
    try {
      ({ status, body } = await request({ method: 'POST', url: this.#url, headers: this.#headers, body: JSON.stringify(call), timeoutMs: this.callTimeoutMs }));
    } catch (err) {
      throw new AgentCallError(`${call.type} failed: ${(err as HttpError).message}`, undefined, { cause: err });
    }
    if (status !== 202) throw new AgentCallError(`${call.type} refused by the agent: ${status} ${bodySnippet(body)}`, status);
  }
}
