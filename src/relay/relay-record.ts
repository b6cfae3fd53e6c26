// The JSON record sent for one container output line (docs/log-relay.md). Pure: time arrives as an
// argument. The bytes match what the Go original's logrus JSONFormatter produced, so log
// pipelines parsing them keep working:
// - keys `Timestamp`, `Level`, `Payload` (its FieldMap), `Hostname`, and each label named in
//   SendDockerLabels that the container has, under the label's own name;
// - keys sorted (Go marshals a map in byte order of its keys);
// - a label named like a reserved key moves to `fields.<name>` (logrus prefixFieldClashes), and
//   a label named `Hostname` is overwritten by LogHostname (the Go code sets it last);
// - `Timestamp` is Go's time.RFC3339 in local time: seconds, `Z` or `+hh:mm`;
// - strings escaped as Go's encoding/json does (`<`, `>`, `&`, U+2028, U+2029 as \u escapes);
// - a trailing '\n' (json.Encoder.Encode appends one and the UDP hook sent it as is).
//
// (better) A record whose encoding would exceed MAX_DATAGRAM_BYTES is split into several
// records carrying consecutive pieces of the Payload, never dropped nor truncated.

export type StreamName = 'stdout' | 'stderr';

/**
 * The most bytes one datagram carries (the JSON plus its '\n'). 8 KiB, not the UDP limit of
 * 65,507: rsyslog's default maxMessageSize is 8k and it truncates longer messages, which turns a
 * JSON record into an unparsable one and loses the whole line. Several whole records survive any
 * receiver that accepts 8 KiB, and it is what the Go original's 64 KiB lines now become.
 */
export const MAX_DATAGRAM_BYTES = 8192;

/** Keys logrus owns in this formatter: a label with one of these names moves to `fields.<name>`. */
const RESERVED_KEYS = new Set(['Timestamp', 'Level', 'Payload', 'logrus_error']);

export interface RelayRecordOptions {
  hostname: string;
  /** SendDockerLabels: names of the container labels to copy into every record. */
  sendDockerLabels: readonly string[];
  /** The container's labels. */
  labels: Readonly<Record<string, string>>;
  maxDatagramBytes?: number;
  /** Fixed offset for `Timestamp`, in minutes east of UTC; local time (as Go) when absent. */
  utcOffsetMinutes?: number;
}

type Dynamic = 'Timestamp' | 'Level' | 'Payload';

/** Builds the records for lines of one container; the constant fields are encoded once. */
export class RelayRecordBuilder {
  readonly maxDatagramBytes: number;
  /** The record's `"key":value` members in key order: constants pre-encoded, the rest by name. */
  readonly #members: readonly ({ text: string } | { field: Dynamic })[];
  readonly #utcOffsetMinutes: number | undefined;
  /** The record's bytes around its dynamic values, for encodeInto: consts[i], dyns[i], ..., consts[n]. */
  readonly #consts: Buffer[] = [];
  readonly #dyns: Dynamic[] = [];
  readonly #constBytes: number;
  /** Timestamp per whole second: the only part of it that changes. */
  #tsSecond = NaN;
  #tsText = '';
  #tsBytes = Buffer.alloc(0);

  constructor(options: RelayRecordOptions) {
    this.maxDatagramBytes = options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
    this.#utcOffsetMinutes = options.utcOffsetMinutes;
    const fixed = new Map<string, string>();
    for (const name of options.sendDockerLabels) {
      if (!Object.prototype.hasOwnProperty.call(options.labels, name)) continue;
      fixed.set(RESERVED_KEYS.has(name) ? `fields.${name}` : name, options.labels[name] as string);
    }
    fixed.set('Hostname', options.hostname);
    const keys = [...fixed.keys(), 'Timestamp', 'Level', 'Payload'].sort(byUtf8);
    this.#members = keys.map((key) => {
      const value = fixed.get(key);
      return value === undefined ? { field: key as Dynamic } : { text: `${goJsonString(key)}:${goJsonString(value)}` };
    });
    let text = '{';
    let first = true;
    for (const member of this.#members) {
      if (!first) text += ',';
      first = false;
      if ('text' in member) { text += member.text; continue; }
      text += `"${member.field}":`;
      this.#consts.push(Buffer.from(text));
      this.#dyns.push(member.field);
      text = '';
    }
    this.#consts.push(Buffer.from(`${text}}\n`));
    this.#constBytes = this.#consts.reduce((n, b) => n + b.length, 0);
  }

  /**
   * The record for the line `line[start..end)` (UTF-8) written straight into `out` at `at`, the
   * same bytes as build() gives; returns the offset after it. Returns -1, writing nothing
   * useful, when this fast path does not apply: a byte other than printable ASCII without JSON
   * escapes, or a record over maxDatagramBytes (build() then escapes or splits). `out` must
   * have maxDatagramBytes of room from `at`.
   */
  encodeInto(line: Buffer, start: number, end: number, stream: StreamName, timeMs: number, out: Buffer, at: number): number {
    const size = this.#constBytes + (end - start) + 2 + (stream === 'stderr' ? 7 : 6) + this.#timestamp(timeMs).length;
    if (size > this.maxDatagramBytes) return -1;
    let level: 'info' | 'error' = 'info';
    let pos = at;
    for (let i = 0; i < this.#dyns.length; i++) {
      pos += (this.#consts[i] as Buffer).copy(out, pos);
      const field = this.#dyns[i];
      if (field === 'Timestamp') {
        pos += this.#tsBytes.copy(out, pos);
      } else if (field === 'Level') {
        level = stream === 'stderr' && hasError(line, start, end) ? 'error' : 'info';
        pos += out.write(level === 'error' ? '"error"' : '"info"', pos, 'latin1');
      } else {
        out[pos++] = 0x22;
        for (let j = start; j < end; j++) {
          const c = line[j] as number;
          // Anything Go's encoder escapes, and every non-ASCII byte: build() handles those.
          if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) return -1;
          out[pos++] = c;
        }
        out[pos++] = 0x22;
      }
    }
    pos += (this.#consts[this.#dyns.length] as Buffer).copy(out, pos);
    return pos;
  }

  /** `"<RFC 3339>"`, recomputed once a second. */
  #timestamp(timeMs: number): string {
    const second = Math.floor(timeMs / 1000);
    if (second !== this.#tsSecond) {
      this.#tsSecond = second;
      this.#tsText = `"${formatRfc3339(timeMs, this.#utcOffsetMinutes)}"`;
      this.#tsBytes = Buffer.from(this.#tsText, 'latin1');
    }
    return this.#tsText;
  }

  /** The records (each JSON + '\n') for one line; one unless the line is too long for a datagram. */
  build(line: string, stream: StreamName, timeMs: number): string[] {
    const values: Record<Dynamic, string> = {
      Timestamp: this.#timestamp(timeMs),
      Level: `"${levelFor(line, stream)}"`,
      Payload: '',
    };
    const encode = (payload: string): string => {
      values.Payload = goJsonString(payload);
      return this.#encode(values);
    };
    const whole = encode(line);
    if (Buffer.byteLength(whole) <= this.maxDatagramBytes) return [whole];
    // Room left for the escaped Payload between its quotes once everything else is encoded.
    const budget = this.maxDatagramBytes - Buffer.byteLength(encode(''));
    // Labels alone filling the datagram (an operator's mistake): pieces would all be oversized
    // anyway and only repeat the labels, so the line goes whole; a larger receiver still gets it.
    if (budget < 6) return [whole];
    return splitByEncodedSize(line, budget).map(encode);
  }

  #encode(values: Record<Dynamic, string>): string {
    let out = '{';
    for (const member of this.#members) {
      if (out.length > 1) out += ',';
      out += 'text' in member ? member.text : `"${member.field}":${values[member.field]}`;
    }
    return `${out}}\n`;
  }
}

/** True when line[start..end) contains "error" in any ASCII case (levelFor on bytes). */
function hasError(line: Buffer, start: number, end: number): boolean {
  for (let i = start; i + 5 <= end; i++) {
    if (((line[i] as number) | 0x20) === 0x65 && ((line[i + 1] as number) | 0x20) === 0x72 && ((line[i + 2] as number) | 0x20) === 0x72
      && ((line[i + 3] as number) | 0x20) === 0x6f && ((line[i + 4] as number) | 0x20) === 0x72) return true;
  }
  return false;
}

/** `error` for a stderr line containing "error" in any case, else `info` (as the Go original). */
export function levelFor(line: string, stream: StreamName): 'info' | 'error' {
  return stream === 'stderr' && line.toLowerCase().includes('error') ? 'error' : 'info';
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

/** A JSON string as Go's encoding/json writes it (HTML-safe escapes on top of JSON.stringify). */
export function goJsonString(value: string): string {
  return JSON.stringify(value).replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's time.RFC3339 ("2006-01-02T15:04:05Z07:00"): whole seconds, `Z` for UTC. */
export function formatRfc3339(timeMs: number, utcOffsetMinutes?: number): string {
  const offset = utcOffsetMinutes ?? -new Date(timeMs).getTimezoneOffset();
  const shifted = new Date(Math.floor(timeMs / 1000) * 1000 + offset * 60_000);
  const base = shifted.toISOString().slice(0, 19);
  if (offset === 0) return `${base}Z`;
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${base}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Bytes one UTF-16 code unit (or surrogate pair, counted on its high half) adds inside goJsonString. */
function escapedCost(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return 2; // \" \\
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
  if (c === 0x3c || c === 0x3e || c === 0x26) return 6; // \u003c \u003e \u0026
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c === 0x2028 || c === 0x2029) return 6;
  if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) return 4;
  if (c >= 0xd800 && c <= 0xdfff) return 6; // a lone surrogate: JSON.stringify writes \udxxx
  return 3;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Consecutive pieces of `text` whose escaped form (without the quotes) fits `budget` bytes,
 * never splitting a surrogate pair. Each piece holds at least one character, so a budget too
 * small for any (labels larger than a datagram) still makes progress instead of dropping data.
 */
export function splitByEncodedSize(text: string, budget: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const cost = escapedCost(text, i);
    const width = cost === 4 ? 2 : 1;
    if (used + cost > budget && i > start) {
      pieces.push(text.slice(start, i));
      start = i;
      used = 0;
    }
    used += cost;
    i += width;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

/** Go sorts map keys by their bytes; UTF-16 order differs from it outside the BMP. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
