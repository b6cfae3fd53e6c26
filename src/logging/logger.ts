// One logger for the whole executor, in the Go original's logrus text shape
// (`time="…" level=info msg="…" key=value`) so existing sandbox-log greps keep working, or, with
// EXECUTOR_LOG_FORMAT=json, one JSON object per line (`time`, `level`, `msg`, fields) for log
// shippers that parse JSON.
// Every line passes through redaction of the secret values registered with `redact`, a last
// line of defence behind never logging secrets in the first place (docs/logs.md).

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LOGRUS_NAME: Record<Level, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger adding `fields` to every line (task id, container id). */
  child(fields: Fields): Logger;
  /** Registers a secret value: it is replaced by [REDACTED] wherever it would appear. */
  redact(secret: string | undefined): void;
  /** `text` with the registered secrets replaced, for text leaving other than as a log line (a status message). */
  scrub(text: string): string;
}

export interface LogSink { write(line: string): void }

class Redactor {
  #secrets: string[] = [];
  add(secret: string | undefined): void {
    // Very short values would redact ordinary words; a 3-character secret is no secret.
    if (!secret || secret.length < 4) return;
    // Lines quote values as JSON strings: a secret with a quote or backslash appears escaped.
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (!this.#secrets.includes(form)) this.#secrets.push(form);
    }
    this.#secrets.sort((a, b) => b.length - a.length);
  }
  apply(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    return out;
  }
}

function quote(value: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
}

export type LogFormat = 'text' | 'json';

/** One line of either format, without its newline. */
function formatLine(format: LogFormat, time: string, level: Level, msg: string, fields: Fields): string {
  if (format === 'json') {
    const record: Record<string, unknown> = { time, level: LOGRUS_NAME[level], msg };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined && !(key in record)) record[key] = value;
    return JSON.stringify(record);
  }
  let line = `time="${time}" level=${LOGRUS_NAME[level]} msg=${JSON.stringify(msg)}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${quote(String(value))}`;
  }
  return line;
}

class TextLogger implements Logger {
  constructor(
    readonly sink: LogSink,
    readonly minRank: number,
    readonly fields: Fields,
    readonly redactor: Redactor,
    readonly now: () => Date,
    readonly format: LogFormat,
  ) {}

  #log(level: Level, msg: string, extra?: Fields): void {
    if (RANK[level] < this.minRank) return;
    // Redacted after formatting: a secret inside a JSON string is the same text in the line.
    const line = formatLine(this.format, this.now().toISOString(), level, msg, { ...this.fields, ...extra });
    this.sink.write(this.redactor.apply(line) + '\n');
  }
  debug(msg: string, fields?: Fields): void { this.#log('debug', msg, fields); }
  info(msg: string, fields?: Fields): void { this.#log('info', msg, fields); }
  warn(msg: string, fields?: Fields): void { this.#log('warn', msg, fields); }
  error(msg: string, fields?: Fields): void { this.#log('error', msg, fields); }
  child(fields: Fields): Logger {
    return new TextLogger(this.sink, this.minRank, { ...this.fields, ...fields }, this.redactor, this.now, this.format);
  }
  redact(secret: string | undefined): void { this.redactor.add(secret); }
  scrub(text: string): string { return this.redactor.apply(text); }
}

/** `quiet`: warnings and errors only (local mode, for a person); `debug` wins over it. */
export function createLogger(options: { sink: LogSink; debug?: boolean; quiet?: boolean; now?: () => Date; format?: LogFormat }): Logger {
  const minRank = options.debug ? RANK.debug : options.quiet ? RANK.warn : RANK.info;
  return new TextLogger(options.sink, minRank, {}, new Redactor(), options.now ?? (() => new Date()), options.format ?? 'text');
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(debug = true): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ sink: { write: (l) => lines.push(l) }, debug });
  return Object.assign(logger, { lines });
}
