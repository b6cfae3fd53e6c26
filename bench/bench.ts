// `npm run bench`: runs every benchmark section and writes BENCHMARKS.md. A benchmark, not a
// test: it asserts nothing, it reports. Sections: BENCH_ONLY=executor,sidecar,health,relay,disconnects.
import { readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import type { BenchSection } from './bench-kit';
import { executorBench } from './executor-bench';
import { agentDisconnectsBench } from './agent-disconnects';
import { healthChecksBench } from './health-checks';
import { relayThroughputBench } from './relay-throughput';
import { sidecarPollingBench } from './sidecar-polling';

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  executor: executorBench,
  sidecar: sidecarPollingBench,
  health: healthChecksBench,
  relay: relayThroughputBench,
  disconnects: agentDisconnectsBench,
};

function shebang(): string {
  return readFileSync('dist/sidecar-executor.js', 'utf8').split('\n')[0];
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',');
  const sections: BenchSection[] = [];
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}...\n`);
    const section = await run();
    process.stdout.write(`${name}: ${JSON.stringify(section.figures)}\n`);
    sections.push(section);
  }
  const engine = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
  const out = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (${arch()}, Linux ${release()}), ` +
    `Node ${process.version}, Docker Engine ${engine}. Reproduce with \`npm run bench\` (after \`bash scripts/setup.sh\`); ` +
    'each baseline is measured in the same run, and ratios are ours divided by the baseline. ' +
    `The executor runs as the agent starts it, the bundle itself, whose first line is \`${shebang()}\` (scripts/build.mjs says why).`,
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', ...s.lines, '']),
  ];
  if (!only) writeFileSync('BENCHMARKS.md', out.join('\n'));
  else process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => { process.stderr.write(`bench failed: ${(err as Error).stack}\n`); process.exit(1); });
