// Transfer rate and ETA over the last seconds of a transfer, measured from its first byte.
// Time-based on purpose: a window of N updates (cli-progress's etaBuffer) spans ~0.1 s at disk speed.

export interface RateMeterOptions {
  /** The rate is taken over about this long (ms). */
  windowMs?: number;
  /** No estimate until this long after the first byte (ms): the start says little. */
  warmupMs?: number;
  /** At most one sample per this long (ms), so memory stays small at any chunk rate. */
  sampleMs?: number;
}

export class RateMeter {
  readonly #windowMs: number;
  readonly #warmupMs: number;
  readonly #sampleMs: number;
  /** [ms, bytes] pairs, oldest first; the first is the first byte. */
  readonly #samples: Array<[number, number]> = [];
  #bytes = 0;
  #at = 0;

  constructor(opts: RateMeterOptions = {}) {
    this.#windowMs = opts.windowMs ?? 10_000;
    this.#warmupMs = opts.warmupMs ?? 1_000;
    this.#sampleMs = opts.sampleMs ?? 100;
  }

  /** `bytes` moved in total by `now` (ms, any monotonic clock). */
  update(bytes: number, now: number): void {
    if (this.#samples.length === 0) {
      // the clock starts at the first byte: waiting for the node to answer is not transfer time
      if (bytes > 0) this.#samples.push([now, bytes]);
      this.#bytes = bytes;
      this.#at = now;
      return;
    }
    this.#bytes = bytes;
    this.#at = now;
    const last = this.#samples[this.#samples.length - 1]!;
    if (now - last[0] >= this.#sampleMs) this.#samples.push([now, bytes]);
    while (this.#samples.length > 2 && now - this.#samples[1]![0] >= this.#windowMs) {
      this.#samples.shift();
    }
  }

  /** Bytes per second over the window; undefined during warm-up. */
  rate(): number | undefined {
    const first = this.#samples[0];
    if (!first || this.#at - first[0] < this.#warmupMs) return undefined;
    const secs = (this.#at - first[0]) / 1000;
    return (this.#bytes - first[1]) / secs;
  }

  /** Seconds until `total` bytes at the current rate; undefined while unknown. */
  eta(total: number | undefined): number | undefined {
    const r = this.rate();
    if (total === undefined || r === undefined || r <= 0) return undefined;
    return Math.max(0, Math.ceil((total - this.#bytes) / r));
  }
}
