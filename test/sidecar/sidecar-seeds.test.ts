import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { memoryLogger } from '../../src/logging/logger';
import { fetchSidecarSeeds } from '../../src/sidecar/sidecar-seeds';
import { MesosMasterDouble } from '../doubles/mesos-master';

/** A tiny agent answering GET /state with whatever the test sets. */
class AgentStub {
  body = '{}';
  status = 200;
  delayMs = 0;
  readonly paths: string[] = [];
  readonly server = http.createServer((req, res) => {
    this.paths.push(req.url ?? '');
    const send = (): void => {
      if (req.url !== '/state') { res.writeHead(404).end(); return; }
      res.writeHead(this.status, { 'content-type': 'application/json' }).end(this.body);
    };
    if (this.delayMs > 0) setTimeout(send, this.delayMs); else send();
  });
  async start(): Promise<void> { await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r())); }
  get endpoint(): string { return `127.0.0.1:${(this.server.address() as AddressInfo).port}`; }
  state(masterHostname: unknown): void {
    // The fields a real agent's /state carries around master_hostname.
    this.body = JSON.stringify({ version: '1.11.0', id: 'x-S0', pid: 'slave(1)@127.0.0.1:5051', hostname: 'agent-1', master_hostname: masterHostname, flags: {}, frameworks: [] });
  }
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }
}

describe('fetchSidecarSeeds', () => {
  const agent = new AgentStub();
  let master: MesosMasterDouble;

  before(async () => {
    await agent.start();
    master = await MesosMasterDouble.start();
  });
  after(async () => { await agent.close(); await master.close(); });
  beforeEach(() => {
    agent.state('127.0.0.1');
    agent.status = 200;
    agent.delayMs = 0;
    master.normal();
    master.setHostnames(['agent-1.example.com', 'agent-2.example.com', 'agent-3.example.com']);
  });

  const fetch = (overrides: Partial<{ agentEndpoint: string; masterPort: string; timeoutMs: number }> = {}) => {
    const logger = memoryLogger();
    const seeds = fetchSidecarSeeds({ agentEndpoint: agent.endpoint, masterPort: String(master.port), timeoutMs: 1000, logger, ...overrides });
    return { seeds, logger };
  };

  async function expectFailure(pattern: RegExp, overrides = {}): Promise<void> {
    const { seeds, logger } = fetch(overrides);
    assert.equal(await seeds, undefined);
    const errors = logger.lines.filter((l) => l.includes('level=error'));
    assert.equal(errors.length, 1, logger.lines.join(''));
    assert.match(errors[0]!, pattern);
  }

  it('asks the agent for its master, then the master for every agent hostname', async () => {
    const before = master.calls.length;
    const { seeds } = fetch();
    assert.deepEqual(await seeds, ['agent-1.example.com', 'agent-2.example.com', 'agent-3.example.com']);
    assert.equal(agent.paths.at(-1), '/state');
    assert.deepEqual(master.calls.slice(before).map((c) => `${c.method} ${c.path}`), ['GET /slaves']);
  });

  it('drops duplicate and empty hostnames, keeping the master\'s order', async () => {
    master.setHostnames(['b.example.com', '', 'a.example.com', 'b.example.com']);
    assert.deepEqual(await fetch().seeds, ['b.example.com', 'a.example.com']);
  });

  it('follows a non-leading master\'s redirect to the leader', async () => {
    const leader = await MesosMasterDouble.start(['leader-known.example.com']);
    try {
      master.redirectTo(`//127.0.0.1:${leader.port}/master/slaves`);
      assert.deepEqual(await fetch().seeds, ['leader-known.example.com']);
      assert.deepEqual(leader.calls.map((c) => c.path), ['/master/slaves']);
    } finally {
      await leader.close();
    }
  });

  it('no MESOS_AGENT_ENDPOINT: undefined, with an error', async () => {
    await expectFailure(/MESOS_AGENT_ENDPOINT/, { agentEndpoint: '' });
  });

  it('agent unreachable: undefined, with an error naming the URL', async () => {
    await expectFailure(/Unable to fetch Mesos master info from the agent: http:\/\/127\.0\.0\.1:1\/state: ECONNREFUSED/, { agentEndpoint: '127.0.0.1:1' });
  });

  it('agent answers 500 or not JSON or no master_hostname: undefined', async () => {
    agent.status = 500;
    await expectFailure(/HTTP 500/);
    agent.status = 200;
    agent.body = '<html>';
    await expectFailure(/not JSON/);
    agent.state(undefined);
    await expectFailure(/master_hostname/);
    agent.state('');
    await expectFailure(/master_hostname/);
    agent.body = '[]';
    await expectFailure(/not a JSON object/);
  });

  it('agent too slow: undefined after the timeout', async () => {
    agent.delayMs = 500;
    const started = Date.now();
    await expectFailure(/no response within 50 ms/, { timeoutMs: 50 });
    assert.ok(Date.now() - started < 400);
  });

  it('master unreachable, failing, or answering garbage: undefined', async () => {
    await expectFailure(/agent list from the Mesos master: http:\/\/127\.0\.0\.1:1\/slaves: ECONNREFUSED/, { masterPort: '1' });
    master.failWith(503);
    await expectFailure(/HTTP 503/);
    master.garbage();
    await expectFailure(/not JSON/);
  });

  it('master lists no agents: undefined rather than an empty SIDECAR_SEEDS', async () => {
    master.setHostnames([]);
    await expectFailure(/no agent hostnames/);
  });

  it('an empty MesosMasterPort leaves the port out of the URL, as the Go original does', async () => {
    // Port 80 on 127.0.0.1 is almost certainly closed here; the error shows the URL we tried.
    await expectFailure(/http:\/\/127\.0\.0\.1\/slaves/, { masterPort: '' });
  });
});
