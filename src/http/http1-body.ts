// An HTTP/1.1 response as read from a raw socket (RFC 9112), for a client that streams a GET's
// body without node:http: chunk data is handed out as ranges of the caller's read buffer, so a
// stream of many small chunks (a container's log) costs no copy and no allocation per chunk.
// Pure: the caller owns the socket, the buffer and the timeouts.

export class Http1Error extends Error {
  readonly code = 'E_HTTP1';
}

export interface ResponseHead {
  status: number;
  /** Header names lower-cased; a repeated header's values joined with ', ' (RFC 9110 §5.3). */
  headers: Record<string, string>;
}

/** Bound on a response head, and on a chunk-size line or trailer section: a peer that is not speaking HTTP must not keep us reading text forever. */
export const MAX_HEAD_BYTES = 64 * 1024;

const CR = 0x0d, LF = 0x0a, SP = 0x20, HTAB = 0x09, SEMICOLON = 0x3b;

/** At most 60 characters of peer input in a message: enough to recognise it, never a whole body. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function describeByte(b: number): string {
  return b > 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Offset just after the blank line ending the head ("\r\n\r\n") in bytes[0..end), or -1 if not
 * there yet. `from` is the `end` of the previous call (0 at first): the search backs up 3 bytes
 * itself, so a terminator split across reads is found. Bytes at or after `end` are never read
 * (a reused buffer holds stale data there). Throws Http1Error once the head exceeds MAX_HEAD_BYTES.
 */
export function findHeadEnd(bytes: Buffer, from: number, end: number): number {
  for (let i = Math.max(0, from - 3); i + 4 <= end; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF && bytes[i + 2] === CR && bytes[i + 3] === LF) {
      if (i + 4 <= MAX_HEAD_BYTES) return i + 4;
      break;
    }
  }
  if (end >= MAX_HEAD_BYTES) throw new Http1Error(`the response head is longer than ${MAX_HEAD_BYTES} bytes (not an HTTP server?)`);
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

function trimOws(text: string): string {
  return text.replace(OWS_EDGES, '');
}

/**
 * Parses the head text (status line + header lines, with or without the final blank line). Decode
 * the bytes as 'latin1', so each byte is one character. Lines must end in CRLF: a bare CR or LF,
 * which parsers disagree on (request smuggling), is rejected, as is obsolete line folding.
 */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.replace(/\r\n(\r\n)?$/, '').split('\r\n');
  const fields = new Map<string, string>();
  let status = 0;
  for (const [i, line] of lines.entries()) {
    if (/[\r\n\0]/.test(line)) throw new Http1Error(`response head line with a bare CR or LF, or a NUL: ${quote(line)}`);
    if (i === 0) {
      const match = STATUS_LINE.exec(line);
      if (!match) throw new Http1Error(`not an HTTP/1.0 or HTTP/1.1 status line: ${quote(line)}`);
      status = Number(match[1]);
      continue;
    }
    if (line === '') throw new Http1Error('blank line inside the response head');
    if (line[0] === ' ' || line[0] === '\t') throw new Http1Error(`obsolete line folding (a header line starting with whitespace) is not accepted: ${quote(line)}`);
    const colon = line.indexOf(':');
    if (colon < 0) throw new Http1Error(`response header line without ':': ${quote(line)}`);
    const name = line.slice(0, colon);
    // RFC 9112 §5.1: parsers disagree on such a name, so it must be rejected.
    if (/[ \t]$/.test(name)) throw new Http1Error(`whitespace between a header name and ':' is not allowed: ${quote(line)}`);
    if (!TOKEN.test(name)) throw new Http1Error(`invalid response header name ${quote(name)}`);
    const key = name.toLowerCase();
    const value = trimOws(line.slice(colon + 1));
    const previous = fields.get(key);
    fields.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  // fromEntries, not assignment: a header named __proto__ stays a plain property.
  return { status, headers: Object.fromEntries(fields) };
}

export type BodyFraming = { kind: 'chunked' } | { kind: 'length'; length: number } | { kind: 'close' };

/** How the body of a response to a GET is delimited (RFC 9112 §6.3); a 1xx is interim: another head follows it. */
export function bodyFraming(head: ResponseHead): BodyFraming {
  const { status, headers } = head;
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'length', length: 0 };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    // Transfer-Encoding overrides Content-Length (rule 3); without chunked last, only the close ends the body (rule 4).
    const last = te.split(',').map(trimOws).filter((coding) => coding !== '').at(-1);
    return last?.toLowerCase() === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  const cl = headers['content-length'];
  if (cl === undefined) return { kind: 'close' };
  // Rule 5: a list of identical values (a repeated header, joined) is one length; anything else is fatal.
  const lengths = cl.split(',').map((value) => {
    const text = trimOws(value);
    if (!/^\d+$/.test(text)) throw new Http1Error(`invalid Content-Length ${quote(cl)}`);
    const length = Number(text);
    if (length > Number.MAX_SAFE_INTEGER) throw new Http1Error(`Content-Length ${quote(cl)} is too large`);
    return length;
  });
  if (lengths.some((length) => length !== lengths[0])) throw new Http1Error(`conflicting Content-Length values ${quote(cl)}`);
  return { kind: 'length', length: lengths[0]! };
}

// Where the next byte falls in the chunked grammar (RFC 9112 §7.1). SIZE_BWS: spaces after the
// size, where only ';' may follow; EXTENSION and TRAILER: text skipped up to its CR;
// TRAILER_START: a trailer line or the final CRLF.
const SIZE_START = 0, SIZE = 1, SIZE_BWS = 2, EXTENSION = 3, SIZE_LF = 4, DATA = 5, DATA_CR = 6, DATA_LF = 7;
const TRAILER_START = 8, TRAILER = 9, TRAILER_LF = 10, FINAL_LF = 11, DONE = 12, FAILED = 13;

/** A size above this cannot take one more hex digit and stay a safe integer. */
const MAX_SIZE_BEFORE_DIGIT = Math.floor(Number.MAX_SAFE_INTEGER / 16);

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const BARE_LF = 'chunked body: a bare LF where CRLF is required';
const notHex = (b: number): string => `chunked body: the chunk size is not hexadecimal (found ${describeByte(b)})`;

/** Incremental decoder of the chunked transfer coding (RFC 9112 §7.1). */
export class ChunkedDecoder {
  #state = SIZE_START;
  /** The chunk size being read, then the chunk's data bytes still to come. */
  #size = 0;
  #digits = 0;
  /** Text bytes since the last chunk-size line ended: skipped text still needs a bound. */
  #textBytes = 0;

  /** True once the last chunk, trailers and final CRLF were read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Feeds bytes[start..end). Hands each non-empty piece of chunk data to onData as a range of
   * `bytes` (no copy: the caller may reuse `bytes` once feed returns). Returns the offset just
   * after the body's end when it ended inside this range (later bytes are not consumed), else -1.
   * Throws Http1Error on malformed input, after delivering every data byte before the fault; the
   * decoder is then unusable, as it is once done.
   */
  feed(bytes: Buffer, start: number, end: number, onData: (bytes: Buffer, start: number, end: number) => void): number {
    if (this.#state === DONE) throw new Http1Error('chunked body: feed() called after the body ended');
    if (this.#state === FAILED) throw new Http1Error('chunked body: feed() called after the body was found malformed');
    try {
      return this.#feed(bytes, start, end, onData);
    } catch (err) {
      this.#state = FAILED;
      throw err;
    }
  }

  #feed(bytes: Buffer, start: number, end: number, onData: (bytes: Buffer, start: number, end: number) => void): number {
    let pos = start;
    while (pos < end) {
      if (this.#state === DATA) {
        const from = pos;
        pos = Math.min(end, pos + this.#size);
        this.#size -= pos - from;
        if (this.#size === 0) this.#state = DATA_CR;
        onData(bytes, from, pos);
        continue;
      }
      if (++this.#textBytes > MAX_HEAD_BYTES) throw new Http1Error(`chunked body: a chunk-size line or trailer section is longer than ${MAX_HEAD_BYTES} bytes`);
      const b = bytes[pos++]!;
      switch (this.#state) {
        case SIZE_START:
        case SIZE: {
          const digit = hexValue(b);
          if (digit >= 0) {
            if (this.#digits === 16) throw new Http1Error('chunked body: the chunk size is too large (more than 16 hex digits)');
            if (this.#size > MAX_SIZE_BEFORE_DIGIT) throw new Http1Error('chunked body: the chunk size is too large (over 2^53 - 1 bytes)');
            this.#size = this.#size * 16 + digit;
            this.#digits++;
            this.#state = SIZE;
            break;
          }
          if (this.#state === SIZE_START) throw new Http1Error(b === CR || b === LF ? 'chunked body: empty chunk size line' : notHex(b));
          if (b === CR) this.#state = SIZE_LF;
          else if (b === SEMICOLON) this.#state = EXTENSION;
          else if (b === SP || b === HTAB) this.#state = SIZE_BWS;
          else throw new Http1Error(b === LF ? BARE_LF : notHex(b));
          break;
        }
        case SIZE_BWS:
          if (b === SEMICOLON) this.#state = EXTENSION;
          else if (b !== SP && b !== HTAB) throw new Http1Error(`chunked body: unexpected ${describeByte(b)} after the chunk size (only ';' may follow whitespace)`);
          break;
        case EXTENSION:
          // Extensions carry nothing we use; only their end matters.
          if (b === CR) this.#state = SIZE_LF;
          else if (b === LF) throw new Http1Error(BARE_LF);
          break;
        case SIZE_LF:
          if (b !== LF) throw new Http1Error(`chunked body: CR not followed by LF after the chunk size (found ${describeByte(b)})`);
          this.#state = this.#size === 0 ? TRAILER_START : DATA;
          this.#textBytes = 0;
          break;
        case DATA_CR:
        case DATA_LF:
          // Anything else here means the chunk size was wrong: its data cannot be trusted.
          if (b !== (this.#state === DATA_CR ? CR : LF)) throw new Http1Error(`chunked body: chunk data is not followed by CRLF (found ${describeByte(b)})`);
          this.#state = this.#state === DATA_CR ? DATA_LF : SIZE_START;
          this.#digits = 0;
          break;
        case TRAILER_START:
        case TRAILER:
          // Trailer fields are skipped, not stored: nothing here needs them.
          if (b === LF) throw new Http1Error(BARE_LF);
          this.#state = b === CR ? (this.#state === TRAILER_START ? FINAL_LF : TRAILER_LF) : TRAILER;
          break;
        case TRAILER_LF:
        case FINAL_LF:
          if (b !== LF) throw new Http1Error(`chunked body: CR not followed by LF in the trailer section (found ${describeByte(b)})`);
          if (this.#state === FINAL_LF) {
            this.#state = DONE;
            return pos;
          }
          this.#state = TRAILER_START;
          break;
      }
    }
    return -1;
  }
}
