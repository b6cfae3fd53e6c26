// The lifecycle's hold on the AwsRole credentials (docs/vault-and-aws.md), with fake services and a
// fake clock: the env they add, the stop at expiresAt (also beyond setTimeout's 24.8-day limit),
// and a release that waits for a grant on its way, is bounded, and happens once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskAwsCredentials } from '../../src/executor/task-aws-credentials';
import type { AwsCredentialsGrant, TaskServices } from '../../src/executor/task-services';
import { memoryLogger } from '../../src/logging/logger';
import { FakeClock } from '../support/fake-clock';

const DAY_MS = 86_400_000;

interface FakeGrant extends AwsCredentialsGrant { releases: number }

function fakeServices(grant: () => Promise<AwsCredentialsGrant | undefined>): { services: TaskServices; asked: () => number } {
  let asked = 0;
  const services = { awsCredentials: () => { asked++; return grant(); } } as unknown as TaskServices;
  return { services, asked: () => asked };
}

function grantAt(expiresAt: number, release: () => Promise<void> = async () => undefined): FakeGrant {
  const g: FakeGrant = {
    env: ['AWS_ACCESS_KEY_ID=AKIAFAKE', 'AWS_SECRET_ACCESS_KEY=fake-secret'], expiresAt, releases: 0,
    release: async () => { g.releases++; await release(); },
  };
  return g;
}

test('no AwsRole: the env is left as it is and nothing is released', async () => {
  const clock = new FakeClock(1000);
  const { services } = fakeServices(async () => undefined);
  const hold = new TaskAwsCredentials(services, clock, memoryLogger());
  const env = ['A=1'];
  assert.equal(await hold.addTo(env, () => assert.fail('no expiry')), env);
  await hold.release(10_000);
  assert.equal(clock.pending, 0);
});

test('the credentials are added, replacing the task\'s own, and the stop comes at expiresAt, not before', async () => {
  const clock = new FakeClock(0);
  const grant = grantAt(540_000);
  const logger = memoryLogger();
  const hold = new TaskAwsCredentials(fakeServices(async () => grant).services, clock, logger);
  let expired = 0;
  const env = await hold.addTo(['A=1', 'AWS_ACCESS_KEY_ID=the-task-own', 'B=2'], () => expired++);
  assert.deepEqual(env, ['A=1', 'B=2', 'AWS_ACCESS_KEY_ID=AKIAFAKE', 'AWS_SECRET_ACCESS_KEY=fake-secret']);
  assert.ok(logger.lines.some((l) => /The AwsRole credentials replace variables the task set itself" variables=AWS_ACCESS_KEY_ID/.test(l)));
  await clock.advance(539_999);
  assert.equal(expired, 0);
  await clock.advance(1);
  assert.equal(expired, 1);
  await hold.release(10_000);
  assert.equal(grant.releases, 1);
});

test('an expiry 31 days away is slept in steps of at most a day (setTimeout fires at once past 24.8 days)', async () => {
  const clock = new FakeClock(0);
  const hold = new TaskAwsCredentials(fakeServices(async () => grantAt(31 * DAY_MS)).services, clock, memoryLogger());
  let expired = 0;
  await hold.addTo([], () => expired++);
  await clock.advance(31 * DAY_MS - 1);
  assert.equal(expired, 0);
  assert.ok(clock.sleeps.every((s) => s.ms <= DAY_MS), JSON.stringify(clock.sleeps.map((s) => s.ms)));
  await clock.advance(1);
  assert.equal(expired, 1);
});

test('release stops the expiry timer, happens once, and waits for a grant still on its way', async () => {
  const clock = new FakeClock(0);
  let deliver!: (g: AwsCredentialsGrant) => void;
  const grant = grantAt(600_000);
  const hold = new TaskAwsCredentials(fakeServices(() => new Promise((resolve) => { deliver = resolve; })).services, clock, memoryLogger());
  let expired = 0;
  const adding = hold.addTo([], () => expired++);
  const released = hold.release(10_000);
  deliver(grant);
  await adding;
  await released;
  await hold.release(10_000);
  assert.equal(grant.releases, 1);
  await clock.advance(700_000);
  assert.equal(expired, 0, 'a released task is not stopped again');
});

test('release is bounded: a hung Vault cannot hold up the exit', async () => {
  const clock = new FakeClock(0);
  const grant = grantAt(600_000, () => new Promise(() => undefined));
  const hold = new TaskAwsCredentials(fakeServices(async () => grant).services, clock, memoryLogger());
  await hold.addTo([], () => undefined);
  let done = false;
  const released = hold.release(10_000).then(() => { done = true; });
  await clock.advance(9_999);
  assert.equal(done, false);
  await clock.advance(1);
  await released;
  assert.equal(done, true);
});

test('a failed grant releases nothing; after release, a late launch asks for no credentials', async () => {
  const clock = new FakeClock(0);
  const failing = new TaskAwsCredentials(fakeServices(async () => { throw new Error('reading aws/creds/web: refused'); }).services, clock, memoryLogger());
  await assert.rejects(failing.addTo([], () => undefined), /refused/);
  await failing.release(10_000);

  const { services, asked } = fakeServices(async () => grantAt(600_000));
  const ended = new TaskAwsCredentials(services, clock, memoryLogger());
  await ended.release(10_000);
  assert.deepEqual(await ended.addTo(['A=1'], () => undefined), ['A=1']);
  assert.equal(asked(), 0);
});
