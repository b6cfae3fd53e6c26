// The byte buffer under our incremental parsers (RecordIO events, Docker log frames): chunks
// kept in a list with a byte count, joined only when a whole unit is taken, so a unit inside
// one chunk costs no copy and a multi-MB one costs a single copy (undici's ByteParser shape).
export class ChunkQueue {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Offset of the first `byte` within the first `limit` bytes, or -1. */
  indexOf(byte: number, limit = Infinity): number {
    let seen = 0;
    for (const chunk of this.#chunks) {
      if (seen >= limit) break;
      const at = chunk.indexOf(byte);
      if (at >= 0) return seen + at < limit ? seen + at : -1;
      seen += chunk.length;
    }
    return -1;
  }

  /** Removes and returns the first `n` bytes; the caller checks `length` first. */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#length -= n;
    return out;
  }
}
