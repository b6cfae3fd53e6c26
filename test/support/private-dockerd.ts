// A second, private dockerd for fault-injection tests: the executor is pointed at it with
// DOCKER_HOST, and the test restarts, kills or freezes it while a task's container runs. All its
// state lives in one temp dir and it has a bridge of its own, so the main engine
// (/var/run/docker.sock, docker0) is never touched. Rules from incidents: never `--bridge none`
// (dockerd then deletes docker0, and every BRIDGE container on the machine fails), and stop only
// processes this module started, by pid, never by name.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { allPids, argvOf, parentPidOf, readPidFile, run, signalQuietly, sleepSync, stateOf, unmountAllUnder, waitGoneSync } from './linux-host';

export interface StartOptions {
  /** `--live-restore`: containers keep running while dockerd is down. Off by default, as in dockerd. */
  liveRestore?: boolean;
  /**
   * More dockerd arguments, such as another `--host tcp://127.0.0.1:<port>` with `--tlsverify` and
   * its certificates; kept for later starts (restart, teardown). Not for the ones this module owns
   * (--host of its socket, --data-root, --exec-root, --pidfile, --bridge, --storage-driver, --iptables).
   */
  extraArgs?: string[];
}

/** Flags this module sets itself, which extraArgs may not. */
const OWNED_FLAGS = ['--config-file', '--data-root', '--exec-root', '--pidfile', '-p', '--storage-driver', '-s', '--bridge', '-b', '--iptables', '--ip-forward', '--live-restore'];
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
/** Bridges get 10.213.<n>.1/24: far from docker0's 172.17/16 and the usual LAN ranges. */
const BRIDGE_NET = '10.213';
/** Where containerd-shim-runc-v2 puts its sockets, whatever its containerd's paths. */
const SHIM_SOCKET_DIR = '/run/containerd/s';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** dockerd is unref'd so that a forgotten teardown cannot hold the process open; waiting on it refs it. */
function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref();
  return new Promise((resolve) => child.once('exit', () => { child.unref(); resolve(); }));
}

/** A /24 of BRIDGE_NET no interface uses yet; starting from the pid keeps parallel processes apart. */
function freeBridgeSubnet(counter: number): string {
  const used = run('ip', ['-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 256; i++) {
    const subnet = `${BRIDGE_NET}.${(process.pid + counter * 31 + i) % 256}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  throw new Error(`no free /24 left in ${BRIDGE_NET}.0.0/16 for a private dockerd bridge`);
}

let instanceCounter = 0;
const live = new Set<PrivateDockerd>();
let exitHooksInstalled = false;

/**
 * A crashed or forgetful test must not leave dockerd running: dockerd is unref'd, so the process
 * still ends, and 'exit' sweeps synchronously. A signal ends it without 'exit': sweep there too,
 * and exit unless someone else (the test runner) handles the signal.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const sweepAll = () => { for (const dockerd of live) dockerd.sweep(); };
  process.on('exit', sweepAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => { sweepAll(); if (process.listenerCount(sig) === 1) process.exit(128 + os.constants.signals[sig]); });
  }
}

export class PrivateDockerd {
  /** The temp dir that holds everything: socket, data and exec roots, pid file, log. */
  readonly dir = fs.mkdtempSync('/tmp/pdd-'); // short: a socket path has ~107 bytes
  readonly socketPath = path.join(this.dir, 'docker.sock');
  /** `unix://<socketPath>`, for DOCKER_HOST. */
  readonly dockerHost = `unix://${this.socketPath}`;
  /** Environment for a child (the executor) that should talk to this engine. */
  readonly env = { DOCKER_HOST: this.dockerHost };
  private readonly serial = ++instanceCounter;
  /** Unique per process and instance (random tail: pids get reused), at most 15 characters (IFNAMSIZ). */
  readonly bridge = `pdd${process.pid.toString(36)}x${this.serial.toString(36)}${Math.random().toString(36).slice(2, 4)}`.slice(0, 15);
  /** dockerd's stdout and stderr, across all its starts. */
  readonly logFile = path.join(this.dir, 'dockerd.log');
  private readonly execRoot = path.join(this.dir, 'exec');
  private readonly pidFile = path.join(this.dir, 'docker.pid');
  private readonly containerdPidFile = path.join(this.execRoot, 'containerd', 'containerd.pid');
  private readonly containerdSocket = path.join(this.execRoot, 'containerd', 'containerd.sock');
  private readonly containerdConfig = path.join(this.execRoot, 'containerd', 'containerd.toml');
  private child: ChildProcess | undefined;
  private extraArgs: string[] = [];
  private frozen = false;
  private tornDown = false;

  private constructor() {
    live.add(this);
    installExitHooks();
    try {
      // dockerd reads /etc/docker/daemon.json unless told otherwise: an empty one leaves the flags in charge.
      fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
      run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${freeBridgeSubnet(this.serial)}.1/24`, 'dev', this.bridge]);
      run('ip', ['link', 'set', this.bridge, 'up']);
    } catch (err) {
      this.sweep();
      throw err;
    }
  }

  /** Creates the dir and the bridge, starts dockerd and waits until it answers /_ping. */
  static async start(options: StartOptions = {}): Promise<PrivateDockerd> {
    let dockerd: PrivateDockerd | undefined;
    try {
      dockerd = new PrivateDockerd();
      await dockerd.startAgain(options);
      return dockerd;
    } catch (err) {
      // Clean up, but the error worth seeing is the original one.
      await dockerd?.teardown().catch((cleanup: unknown) => console.error('private dockerd: clean-up failed:', cleanup));
      throw err;
    }
  }

  /** True from a start until dockerd has exited (also while frozen). */
  get running(): boolean { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null; }

  /** dockerd's pid while it runs. */
  get pid(): number | undefined { return this.running ? this.child!.pid : undefined; }

  /** The pid of this instance's containerd, while it runs. */
  containerdPid(): number | undefined {
    const pid = readPidFile(this.containerdPidFile);
    return pid !== undefined && this.isOurContainerd(pid) ? pid : undefined;
  }

  /** The pids of this instance's containerd-shims: they and their containers outlive a killed dockerd. */
  shimPids(): number[] {
    return allPids().filter((pid) => {
      const argv = argvOf(pid) ?? [];
      return path.basename(argv[0] ?? '').startsWith('containerd-shim') && argv[argv.indexOf('-address') + 1] === this.containerdSocket;
    });
  }

  /** The docker CLI against this engine; returns trimmed stdout, throws with stderr. */
  docker(...args: string[]): string { return run('docker', ['-H', this.dockerHost, ...args]).trim(); }

  /** `docker container inspect` of one container, parsed. */
  inspect(nameOrId: string): any { return JSON.parse(this.docker('container', 'inspect', nameOrId))[0]; }

  /** Copies an image from the main engine: test images are built there and in no registry. */
  loadImage(image: string): void {
    const tar = execFileSync('docker', ['save', image], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
    run('docker', ['-H', this.dockerHost, 'load', '--quiet'], tar);
  }

  /** Resolves when GET /_ping answers 200 within timeoutMs; rejects otherwise (a frozen dockerd times out). */
  ping(timeoutMs = 1000): Promise<void> {
    return new Promise((resolve, reject) => {
      // agent: false: a kept-alive socket must not outlive the call or hide a dead dockerd.
      const req = http.get({ socketPath: this.socketPath, path: '/_ping', agent: false }, (res) => {
        res.resume();
        res.on('close', () => {
          clearTimeout(timer);
          if (res.complete && res.statusCode === 200) resolve();
          else reject(new Error(`/_ping answered ${res.statusCode}${res.complete ? '' : ', body cut'}`));
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`/_ping: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
  }

  /** Starts dockerd (again, after stop() or kill9()) and waits until it answers /_ping. */
  async startAgain(options: StartOptions = {}): Promise<void> {
    if (this.tornDown) throw new Error('private dockerd was torn down');
    if (this.running) throw new Error('private dockerd is already running');
    this.removeStalePidFiles();
    if (options.extraArgs !== undefined) {
      // `--bridge none` would delete docker0 (see the top); the others would share the main engine's state.
      const owned = options.extraArgs.filter((arg) => OWNED_FLAGS.includes(arg.split('=')[0]!));
      if (owned.length > 0) throw new Error(`private dockerd: extraArgs may not set ${owned.join(' ')}`);
      this.extraArgs = [...options.extraArgs];
    }
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn('dockerd', [
      '--config-file', path.join(this.dir, 'daemon.json'), '--host', this.dockerHost,
      '--data-root', path.join(this.dir, 'data'), '--exec-root', this.execRoot, '--pidfile', this.pidFile,
      '--storage-driver', 'vfs', '--bridge', this.bridge, `--live-restore=${options.liveRestore === true}`,
      // The main engine owns iptables and the ip_forward sysctl; this one keeps its hands off both.
      '--iptables=false', '--ip-forward=false', ...this.extraArgs,
    ], { detached: true, stdio: ['ignore', log, log] }); // detached: a Ctrl-C to the tests is not dockerd's to handle
    fs.closeSync(log);
    child.unref();
    let spawnError: Error | undefined;
    child.once('error', (err) => { spawnError = err; });
    this.child = child;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new Error(`dockerd could not be started: ${spawnError.message}`);
      if (!this.running) throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before answering /_ping\n${this.logTail()}`);
      try { await this.ping(1000); return; } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`dockerd did not answer /_ping on ${this.socketPath} within ${READY_TIMEOUT_MS} ms\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** Graceful stop: SIGTERM and wait (SIGKILL after STOP_TIMEOUT_MS). With live-restore, containers keep running. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const containerd = this.containerdPid();
    this.thaw(); // a stopped process holds SIGTERM until continued
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const exited = exitOf(child);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
    if (containerd !== undefined) waitGoneSync([containerd], 5000); // it exits within milliseconds
  }

  /** stop() then startAgain(): with live-restore on both sides, running containers are kept. */
  async restart(options: StartOptions = {}): Promise<void> {
    await this.stop();
    await this.startAgain(options);
  }

  /** SIGKILL dockerd, as a crash would. Its containerd dies with it (Pdeathsig); shims and containers live on. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) throw new Error('private dockerd is not running');
    const containerd = this.containerdPid();
    const exited = exitOf(child);
    child.kill('SIGKILL');
    this.frozen = false;
    await exited;
    // So that a start right after does not find it still running; it goes within milliseconds.
    if (containerd !== undefined) waitGoneSync([containerd], 5000);
  }

  /** SIGSTOP dockerd only: its API hangs while its containerd and the containers keep running. */
  freeze(): void {
    if (!this.running) throw new Error('private dockerd is not running');
    this.child!.kill('SIGSTOP');
    this.frozen = true;
    // The signal is delivered asynchronously: return once every thread has stopped, so the next
    // request is sure to meet a frozen engine.
    const deadline = Date.now() + 2000;
    while (stateOf(this.child!.pid!) !== 'T' && Date.now() < deadline) sleepSync(5);
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    if (this.frozen && this.running) this.child!.kill('SIGCONT');
    this.frozen = false;
  }

  /**
   * Removes everything: containers, dockerd, its containerd and shims, mounts, the dir, the bridge.
   * Works after kill9(), stop() and while frozen. Throws, after doing all it can, if anything is left.
   */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    const notes: string[] = [];
    const attempt = async (what: string, action: () => unknown) => {
      try { await action(); } catch (err) { notes.push(`${what}: ${(err as Error).message}`); }
    };
    this.thaw();
    // Containers left running by kill9() or a live-restore stop: a dockerd without live-restore
    // stops them as it starts, and cleans up after them (cgroups, shim sockets, netns). If that
    // fails, sweep() kills them by pid.
    if (!this.running && this.shimPids().length > 0) await attempt('start to stop leftover containers', () => this.startAgain());
    if (this.running) {
      await attempt('remove containers', () => {
        const ids = this.docker('ps', '-aq').split('\n').filter(Boolean);
        if (ids.length > 0) this.docker('rm', '-f', ...ids);
      });
      await attempt('stop dockerd', () => this.stop());
    }
    const leftovers = this.sweep();
    if (leftovers.length > 0) throw new Error(`private dockerd teardown (${this.dir}, ${this.bridge}) left:\n${[...leftovers, ...notes].join('\n')}`);
  }

  /**
   * Synchronous and best effort, so it can run in an 'exit' handler: kills what is left of this
   * instance by pid, unmounts, removes the dir and the bridge. Returns what it could not remove.
   */
  sweep(): string[] {
    this.tornDown = true;
    live.delete(this);
    const problems: string[] = [];
    const dockerd = this.child?.pid;
    if (dockerd !== undefined && argvOf(dockerd)?.includes(this.pidFile)) { signalQuietly(dockerd, 'SIGCONT'); signalQuietly(dockerd, 'SIGKILL'); }
    const containerd = this.containerdPid();
    const shims = this.shimPids();
    const shimArgvs = shims.map((pid) => argvOf(pid) ?? []);
    // A shim's children are the containers' init processes; SIGKILL to one ends its pid namespace.
    const containers = allPids().filter((pid) => shims.includes(parentPidOf(pid) ?? 0));
    const victims = [...containers, ...shims, ...(containerd !== undefined ? [containerd] : [])];
    for (const pid of victims) signalQuietly(pid, 'SIGKILL');
    const alive = waitGoneSync([...victims, ...(dockerd !== undefined ? [dockerd] : [])], 5000);
    if (alive.length > 0) problems.push(`still running after SIGKILL: ${alive.join(' ')}`);
    for (const argv of shimArgvs) this.removeShimLeftovers(argv[argv.indexOf('-namespace') + 1] ?? 'moby', argv[argv.indexOf('-id') + 1] ?? '');
    problems.push(...unmountAllUnder(this.dir)); // dockerd bind-mounts its data root, and netns files
    try { fs.rmSync(this.dir, { recursive: true, force: true }); } catch (err) { problems.push(`remove ${this.dir}: ${(err as Error).message}`); }
    if (fs.existsSync(`/sys/class/net/${this.bridge}`)) {
      try { run('ip', ['link', 'del', this.bridge]); } catch (err) { problems.push((err as Error).message); }
    }
    return problems;
  }

  private isOurContainerd(pid: number): boolean {
    const argv = argvOf(pid);
    return argv !== undefined && path.basename(argv[0] ?? '') === 'containerd' && argv.includes(this.containerdConfig);
  }

  /**
   * A SIGKILL leaves the pid files behind. dockerd refuses to start over a docker.pid whose pid
   * runs; and if containerd.pid's pid now belongs to another process, it says "containerd is still
   * running", then fails with "timeout waiting for containerd to start". Keep only live ones of ours.
   */
  private removeStalePidFiles(): void {
    const dockerPid = readPidFile(this.pidFile);
    if (dockerPid !== undefined && !argvOf(dockerPid)?.includes(this.pidFile)) fs.rmSync(this.pidFile, { force: true });
    const containerdPid = readPidFile(this.containerdPidFile);
    if (containerdPid !== undefined && !this.isOurContainerd(containerdPid)) fs.rmSync(this.containerdPidFile, { force: true });
  }

  /** What the shim and runc remove when not killed: the shim's socket and the container's cgroups. */
  private removeShimLeftovers(namespace: string, containerId: string): void {
    if (!/^[0-9a-f]{64}$/.test(containerId)) return;
    const socketHash = createHash('sha256').update(path.join(this.containerdSocket, namespace, containerId)).digest('hex');
    fs.rmSync(path.join(SHIM_SOCKET_DIR, socketHash), { force: true });
    // cgroupfs driver: <root>/docker/<id> in cgroup v2, <root>/<controller>/docker/<id> in v1.
    const roots = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((name) => path.join('/sys/fs/cgroup', name))];
    for (const cgroup of roots.map((root) => path.join(root, 'docker', containerId))) {
      for (let tries = 0; tries < 20 && fs.existsSync(cgroup); tries++) {
        try { fs.rmdirSync(cgroup); } catch { sleepSync(50); } // busy until the last process is reaped
      }
    }
  }

  /** The end of dockerd's log without the grpc chatter, for error messages. */
  private logTail(): string {
    let log = '';
    try { log = fs.readFileSync(this.logFile, 'utf8'); } catch { /* none yet */ }
    return `--- ${this.logFile} (tail) ---\n${log.split('\n').filter((line) => !line.includes('module=grpc')).slice(-25).join('\n')}`;
  }
}
