// Background scrubbing: re-reads every local blob at a bounded rate and drops a copy whose bytes
// no longer match their digest, so anti-entropy brings a sound replica back before a reader needs it.

import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import { errorCode } from '../errors.js';
import { Throttle, TokenBucket } from '../rate-limit.js';

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ScrubHost {
  readonly cas: CasStore;
  log: Log;
  /** A rotten copy was dropped: count it and let repair replace it. */
  dropped(ns: string, id: string): void;
}

export interface ScrubOptions {
  /** Time from the end of one pass to the start of the next (0: only when `runPass()` is called). */
  intervalMs?: number;
  /** Disk read limit of a pass, bytes per second (0: unlimited). */
  rateBytesPerSec?: number;
}

export interface ScrubReport {
  checked: number;
  bytes: number;
  rotten: number;
}

export interface ScrubStatus {
  /** When the last complete pass over the local blobs ended. */
  lastScrubAt: number | null;
  /** What that pass found (null before the first one). */
  lastScrub: ScrubReport | null;
  scrubInProgress: boolean;
  /** Rotten local copies found and dropped since the node started. */
  scrubRotten: number;
}

export class Scrubber {
  readonly #host: ScrubHost;
  readonly #intervalMs: number;
  readonly #bucket: TokenBucket;
  readonly #halt = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<ScrubReport> | undefined;
  #lastAt: number | null = null;
  #last: ScrubReport | null = null;
  #rotten = 0;

  constructor(host: ScrubHost, options: ScrubOptions = {}) {
    this.#host = host;
    this.#intervalMs = options.intervalMs ?? 0;
    this.#bucket = new TokenBucket(options.rateBytesPerSec ?? 20_000_000);
  }

  start(): void {
    this.#schedule();
  }

  /** Stops scheduling passes and cuts the one in flight short; settles once it has ended. */
  async stop(): Promise<void> {
    this.#halt.abort();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pass?.catch(() => {});
  }

  status(): ScrubStatus {
    return {
      lastScrubAt: this.#lastAt,
      lastScrub: this.#last,
      scrubInProgress: this.#pass !== undefined,
      scrubRotten: this.#rotten,
    };
  }

  /** One pass over every local blob now (joins the pass in flight, if any). */
  runPass(): Promise<ScrubReport> {
    if (!this.#pass) {
      const pass = this.#run().finally(() => {
        this.#pass = undefined;
        this.#schedule();
      });
      this.#pass = pass;
    }
    return this.#pass;
  }

  #schedule(): void {
    if (this.#halt.signal.aborted || this.#intervalMs === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.runPass().catch((err) => {
        if (!this.#halt.signal.aborted) {
          this.#host.log.warn({ code: errorCode(err), err }, 'scrub pass failed');
        }
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #run(): Promise<ScrubReport> {
    const { cas, log } = this.#host;
    const signal = this.#halt.signal;
    const report: ScrubReport = { checked: 0, bytes: 0, rotten: 0 };
    for (const ns of await cas.namespaces()) {
      for await (const listed of cas.list(ns)) {
        if (signal.aborted) return report;
        const verdict = await this.#check(ns, listed.key);
        if (verdict === 'gone') continue;
        report.checked++;
        report.bytes += verdict.size;
        if (verdict.sound) continue;
        // dropped only if no other version replaced the rotten one while it was being read
        const now = await cas.stat(ns, listed.key).catch(() => undefined);
        if (!now || now.digest !== verdict.digest) continue;
        await cas.delete(ns, listed.key);
        report.rotten++;
        this.#rotten++;
        log.warn({ ns, id: listed.key }, 'scrub found a rotten local copy; dropped it for repair');
        this.#host.dropped(ns, listed.key);
      }
    }
    this.#lastAt = Date.now();
    this.#last = report;
    log.info({ ...report }, 'scrub pass done');
    return report;
  }

  /** Re-hashes one blob against the digest recorded with the very version read. */
  async #check(
    ns: string,
    id: string,
  ): Promise<'gone' | { sound: boolean; size: number; digest: string }> {
    const signal = this.#halt.signal;
    let read: Awaited<ReturnType<CasStore['read']>>;
    try {
      read = await this.#host.cas.read(ns, id, { signal });
    } catch (err) {
      if (errorCode(err) === 'ERR_NOT_FOUND') return 'gone';
      if (errorCode(err) === 'ERR_INTEGRITY') {
        // the blob file no longer has its recorded size
        const meta = await this.#host.cas.stat(ns, id).catch(() => undefined);
        return meta ? { sound: false, size: meta.size, digest: meta.digest } : 'gone';
      }
      throw err;
    }
    const hash = createHash('sha256');
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb();
      },
    });
    await pipeline(read.stream, new Throttle(this.#bucket), sink, { signal });
    const { size, digest } = read.meta;
    return { sound: hash.digest('hex') === digest, size, digest };
  }
}
