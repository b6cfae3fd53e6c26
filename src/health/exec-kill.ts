// A COMMAND check that outlives its timeout is killed (docs/health-checks.md), as Mesos's checker
// kills its check's process tree. The Engine API has no call that stops an exec, and dockerd lets
// the command run on when the caller goes away (seen with Docker 20.10), so the executor kills it
// itself, by the pid dockerd reports for the exec. That pid is in dockerd's (the host's) pid
// namespace: it is used only when /proc/<pid>/cgroup names the task's container, so an executor
// living in another pid namespace, where the number may be someone else, kills nothing.
import { readdirSync, readFileSync } from 'node:fs';

/** A bound on the tree walked: a check command is one process or a few. */
const MAX_PROCESSES = 256;

/** SIGKILLs the process and its descendants; the number killed, or why none was. */
export function killExecTree(pid: number, containerId: string): number | string {
  if (!Number.isInteger(pid) || pid <= 0) return 'the Docker engine reported no pid for it';
  let cgroup: string;
  try {
    cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return `no process ${pid} is visible here (another pid namespace, or it has exited)`;
  }
  if (!cgroup.includes(containerId)) return `process ${pid} here is not in the task's container`;
  // Collected before the first kill: a killed parent's children are reparented and lost to the walk.
  const tree = [pid, ...descendantsOf(pid)];
  let killed = 0;
  for (const member of tree) {
    try {
      process.kill(member, 'SIGKILL');
      killed += 1;
    } catch { /* exited meanwhile */ }
  }
  return killed;
}

function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && found.length < MAX_PROCESSES) {
    const parent = queue.shift()!;
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const thread of threads) {
      let children = '';
      try { children = readFileSync(`/proc/${parent}/task/${thread}/children`, 'utf8'); } catch { /* gone, or no CONFIG_PROC_CHILDREN */ }
      for (const child of children.split(' ')) {
        const n = Number(child);
        if (Number.isInteger(n) && n > 0) { found.push(n); queue.push(n); }
      }
    }
  }
  return found;
}
