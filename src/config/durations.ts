// Duration parsing for the two syntaxes operators already write: Go's (EXECUTOR_* settings)
// and Mesos's (MESOS_* variables set by the agent), both in docs/settings.md. Both return
// milliseconds, possibly fractional, or undefined when the text is not a duration.

const GO_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Go's time.ParseDuration: `300ms`, `1.5s`, `1m30s`, `-2h`, `0`. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  // Escaped: one character beyond Latin-1 in the bundle makes V8 hold all of its source as
  // UTF-16, twice the memory in every executor.
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * GO_UNITS[match[2]];
    rest = rest.slice(match[0].length);
  }
  return sign * total;
}

const MESOS_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, ms: 1, secs: 1000, mins: 60_000, hrs: 3_600_000,
  days: 86_400_000, weeks: 604_800_000,
};

/** Mesos's Duration::parse: one number and one unit, such as `250ms`, `5secs`, `15mins`. */
export function parseMesosDuration(text: string): number | undefined {
  const match = /^\s*(\d+\.?\d*|\.\d+)\s*(ns|us|ms|secs|mins|hrs|days|weeks)\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * MESOS_UNITS[match[2]];
}

/** Milliseconds back to Go's notation (`1m30s`, `250ms`), for logs operators compare to their settings. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600); rest -= h * 3600;
  const m = Math.floor(rest / 60); rest -= m * 60;
  const s = Math.round(rest * 1000) / 1000;
  return (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${s}s`;
}
