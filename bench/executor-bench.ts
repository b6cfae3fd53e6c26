// The executor's own figures (issues 2 and 3): start-up to SUBSCRIBE, memory idle and with a
// task (one and ten executors), LAUNCH to TASK_RUNNING against `docker run -d`, and KILL to
// TASK_KILLED against `docker stop`, each baseline measured in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { ExecutorProcess, TEST_IMAGE, docker, requireDocker, uniqueTaskId } from '../test/e2e/harness';
import { MesosAgentDouble } from '../test/doubles/mesos-agent';
import { dockerTaskInfo } from '../test/doubles/task-fixtures';
import { BenchSection, mb, median, sleep, smapsKb, startSiblings, table } from './bench-kit';

const RUNS = Number(process.env.BENCH_RUNS ?? 12);
const LABEL = 'sidecar-executor.bench=1';
// Exits on SIGTERM with 143, as a process killed by SIGTERM would: TASK_KILLED
// (docs/status-updates.md).
const TERM_KILLED_CMD = 'sh -c "trap \'exit 143\' TERM; while true; do sleep 0.05; done"';

function task(taskId: string, cmd: string) {
  return dockerTaskInfo({ image: TEST_IMAGE, taskId, cmd, labels: { SidecarDiscover: 'false', 'sidecar-executor.bench': '1' } });
}

async function startExecutor(agent: MesosAgentDouble): Promise<ExecutorProcess> {
  const executor = new ExecutorProcess(agent.executorEnvironment());
  await agent.waitForSubscribe(1, 10_000);
  return executor;
}

function timeCommand(args: string[]): number {
  const started = process.hrtime.bigint();
  execFileSync('docker', args, { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function removeBenchContainers(): void {
  const ids = docker('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean);
  if (ids.length > 0) docker('rm', '-f', ...ids);
}

async function startupToSubscribe(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const agent = await MesosAgentDouble.start();
    const started = Date.now();
    const executor = new ExecutorProcess(agent.executorEnvironment());
    await agent.waitForSubscribe(1, 10_000);
    times.push(agent.subscribeCalls()[0].at - started);
    executor.kill();
    await executor.exited;
    await agent.stop();
  }
  return times;
}

async function idleMemory(): Promise<number> {
  const agent = await MesosAgentDouble.start();
  const executor = await startExecutor(agent);
  await sleep(1500);
  const kb = smapsKb(executor.child.pid!).privateKb;
  executor.kill();
  await agent.stop();
  return kb;
}

async function bareNodeMemory(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await sleep(1000);
  const kb = smapsKb(child.pid!).privateKb;
  child.kill('SIGKILL');
  return kb;
}

async function tenExecutors(): Promise<{ privateKb: number[]; pssKb: number[] }> {
  const runs = await Promise.all(Array.from({ length: 10 }, async () => {
    const agent = await MesosAgentDouble.start();
    const taskId = uniqueTaskId('bench-mem');
    await agent.launch(task(taskId, 'sleep 300'));
    const executor = new ExecutorProcess(agent.executorEnvironment());
    await agent.waitForUpdate((s) => s.state === 'TASK_RUNNING', 30_000);
    return { agent, executor };
  }));
  await sleep(2000);
  const privateKb = runs.map((r) => smapsKb(r.executor.child.pid!).privateKb);
  const pssKb = runs.map((r) => smapsKb(r.executor.child.pid!).pssKb);
  for (const r of runs) { r.executor.kill(); await r.agent.stop(); }
  removeBenchContainers();
  return { privateKb, pssKb };
}

async function launchAndKill(): Promise<{ launch: number[]; dockerRun: number[]; kill: number[]; dockerStop: number[] }> {
  const launch: number[] = [];
  const dockerRun: number[] = [];
  const kill: number[] = [];
  const dockerStop: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate the two so drift in the machine's load hits both alike.
    const name = `sce-bench-${process.pid}-${i}`;
    dockerRun.push(timeCommand(['run', '-d', '--network', 'host', '--label', LABEL, '--name', name, TEST_IMAGE, 'sh', '-c', "trap 'exit 143' TERM; while true; do sleep 0.05; done"]));
    await sleep(300);
    dockerStop.push(timeCommand(['stop', '-t', '5', name]));

    const agent = await MesosAgentDouble.start({ frameworkCapabilities: [{ type: 'TASK_KILLING_STATE' }] });
    const executor = await startExecutor(agent);
    const taskId = uniqueTaskId('bench');
    const launched = Date.now();
    await agent.launch(task(taskId, TERM_KILLED_CMD));
    const running = await agent.waitForUpdate((s) => s.state === 'TASK_RUNNING', 30_000);
    launch.push(running.timestamp * 1000 - launched);
    await sleep(300);
    const killed = Date.now();
    await agent.kill(taskId);
    const terminal = await agent.waitForUpdate((s) => s.state === 'TASK_KILLED', 30_000);
    kill.push(terminal.timestamp * 1000 - killed);
    await executor.waitForExit();
    await agent.stop();
  }
  removeBenchContainers();
  return { launch, dockerRun, kill, dockerStop };
}

export async function executorBench(): Promise<BenchSection> {
  requireDocker();
  removeBenchContainers();
  const siblings = startSiblings();
  try {
    const startup = await startupToSubscribe();
    const bareKb = await bareNodeMemory();
    const idleKb = await idleMemory();
    const ten = await tenExecutors();
    const lk = await launchAndKill();
    const launchRatio = median(lk.launch) / median(lk.dockerRun);
    const killRatio = median(lk.kill) / median(lk.dockerStop);
    const ms = (v: number): string => v.toFixed(0);
    return {
      title: 'Executor: start-up, memory, launch and kill',
      lines: [
        'Start-up: executor process spawned to SUBSCRIBE received by the agent double, median of 20. ' +
        'Memory: Private_Clean + Private_Dirty (and Pss) of `/proc/<pid>/smaps_rollup`, with other node processes alive so the ' +
        'node binary\'s pages are shared as on a real agent. Launch: LAUNCH event sent to TASK_RUNNING timestamp, against ' +
        '`docker run -d` of the same image; kill: KILL event to TASK_KILLED, against `docker stop` of a like container ' +
        `(both exit 143 on SIGTERM); medians of ${RUNS}, alternating, in the same run.`,
        '',
        ...table(['figure', 'sidecar-executor', 'baseline', 'ratio', 'budget'], [
          ['start-up to SUBSCRIBE (median of 20)', `${ms(median(startup))} ms`, '-', '-', '-'],
          ['private memory, subscribed and idle', `${mb(idleKb)} MB`, `bare node ${mb(bareKb)} MB`, (idleKb / bareKb).toFixed(2), '-'],
          ['private memory per executor, 10 running tasks (median / max)', `${mb(median(ten.privateKb))} / ${mb(Math.max(...ten.privateKb))} MB`, '-', '-', '≤ 8.5 MB'],
          ['PSS per executor, 10 running tasks (median)', `${mb(median(ten.pssKb))} MB`, '-', '-', '-'],
          ['LAUNCH → TASK_RUNNING vs `docker run -d`', `${ms(median(lk.launch))} ms`, `${ms(median(lk.dockerRun))} ms`, launchRatio.toFixed(2), '≤ 1.3'],
          ['KILL → TASK_KILLED vs `docker stop`', `${ms(median(lk.kill))} ms`, `${ms(median(lk.dockerStop))} ms`, killRatio.toFixed(2), '≤ 1.2'],
        ]),
      ],
      figures: {
        startupMs: median(startup), idlePrivateMb: Number(mb(idleKb)), tenPrivateMbMedian: Number(mb(median(ten.privateKb))),
        tenPrivateMbMax: Number(mb(Math.max(...ten.privateKb))), launchRatio: Number(launchRatio.toFixed(2)), killRatio: Number(killRatio.toFixed(2)),
      },
    };
  } finally {
    siblings.stop();
    removeBenchContainers();
  }
}
