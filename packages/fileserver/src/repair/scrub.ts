// Background scrubbing: re-reads every local blob at a bounded rate and drops a copy whose bytes
// no longer match their digest, so anti-entropy brings a sound replica back before a reader needs it.

import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import type { ScrubConfig } from '../config.js';
import { CODES, errorCode, nodeErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { Throttle, TokenBucket } from '../rate-limit.js';

export interface ScrubComponents {
  cas: CasStore;
  log: Logger;
  config: ScrubConfig;
  /** Whether a rotten copy may be deleted (false with R = 0: no peer would bring it back). */
  mayDrop(): boolean;
  /** A rotten copy was dropped: count it and let repair replace it. */
  dropped(ns: string, id: string): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ScrubReport {
  /** Blobs read back and re-hashed. */
  checked: number;
  bytes: number;
  /** Copies found rotten (wrong bytes, wrong size, unreadable). */
  rotten: number;
  /** Of those, copies deleted for repair to replace (none with R = 0). */
  dropped: number;
}

export interface ScrubStatus {
  /** When the last complete pass over the local blobs ended. */
  lastScrubAt: number | null;
  /** What that pass found (null before the first one). */
  lastScrub: ScrubReport | null;
  scrubInProgress: boolean;
  /** Rotten local copies found since the node started. */
  scrubRotten: number;
}

export class Scrubber {
  readonly #c: ScrubComponents;
  readonly #intervalMs: number;
  readonly #bucket: TokenBucket;
  readonly #halt = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<ScrubReport> | undefined;
  #lastAt: number | null = null;
  #last: ScrubReport | null = null;
  #rotten = 0;

  /** `config.intervalMs`: from the end of one pass to the next (0: only when asked). */
  constructor(components: ScrubComponents) {
    this.#c = components;
    this.#intervalMs = components.config.intervalMs;
    this.#bucket = new TokenBucket(components.config.rateBytesPerSec);
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
    this.#timer = setTimeout(
      () => {
        this.runPass().catch((err) => {
          if (!this.#halt.signal.aborted) {
            this.#c.log.warn({ code: errorCode(err), err }, 'scrub pass failed');
          }
        });
        // setTimeout turns anything past 2^31 - 1 ms (~24.8 days) into 1 ms
      },
      Math.min(this.#intervalMs, MAX_TIMER_MS),
    );
    this.#timer.unref();
  }

  async #run(): Promise<ScrubReport> {
    const { cas, log } = this.#c;
    const signal = this.#halt.signal;
    const report: ScrubReport = { checked: 0, bytes: 0, rotten: 0, dropped: 0 };
    for (const ns of await cas.namespaces()) {
      for await (const listed of cas.list(ns)) {
        signal.throwIfAborted();
        const verdict = await this.verify(ns, listed.key);
        if (verdict === 'gone') continue;
        report.checked++;
        report.bytes += verdict.meta.size;
        if (verdict.sound) continue;
        if (!this.#c.mayDrop()) {
          report.rotten++;
          this.#rotten++;
          log.warn({ ns, id: listed.key }, 'scrub found a rotten local copy (no replicas: kept)');
          continue;
        }
        // only the very version found rotten: a sound copy written meanwhile (a get re-fetching
        // it from a peer) stays, and then there is nothing to count
        const { digest, createdAt } = verdict.meta;
        if (!(await cas.delete(ns, listed.key, { ifMatch: { digest, createdAt } }))) continue;
        report.rotten++;
        report.dropped++;
        this.#rotten++;
        log.warn({ ns, id: listed.key }, 'scrub found a rotten local copy; dropped it for repair');
        this.#c.dropped(ns, listed.key);
      }
    }
    this.#lastAt = Date.now();
    this.#last = report;
    log.info({ ...report }, 'scrub pass done');
    return report;
  }

  /**
   * Re-hashes one blob against the digest recorded with the very version read, at the scrub rate
   * unless `throttled` is false. A blob that cannot be read back (EIO from a bad sector) is rotten
   * too; other failures report it 'gone', so a pass goes on. Cut short (ERR aborted) by stop().
   */
  async verify(
    ns: string,
    id: string,
    { throttled = true }: { throttled?: boolean } = {},
  ): Promise<'gone' | { sound: boolean; meta: BlobMeta }> {
    const { cas, log } = this.#c;
    const signal = this.#halt.signal;
    // the version as it was before reading: what a failed read is blamed on
    const before = await cas.stat(ns, id).catch(() => undefined);
    if (!before) return 'gone';
    let read: Awaited<ReturnType<CasStore['read']>>;
    try {
      read = await cas.read(ns, id, { signal });
    } catch (err) {
      signal.throwIfAborted();
      const code = errorCode(err);
      if (code === CODES.NOT_FOUND) return 'gone';
      // the blob file no longer has its recorded size, or cannot be read at all
      if (code === CODES.INTEGRITY || nodeErrorCode(err) === CODES.IO) {
        return { sound: false, meta: before };
      }
      log.warn({ ns, id, code }, 'scrub could not read a blob; skipped');
      return 'gone';
    }
    const hash = createHash('sha256');
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb();
      },
    });
    try {
      if (throttled) await pipeline(read.stream, new Throttle(this.#bucket), sink, { signal });
      else await pipeline(read.stream, sink, { signal });
    } catch (err) {
      signal.throwIfAborted();
      if (nodeErrorCode(err) === CODES.IO) return { sound: false, meta: read.meta };
      log.warn({ ns, id, code: errorCode(err) }, 'scrub could not read a blob; skipped');
      return 'gone';
    }
    return { sound: hash.digest('hex') === read.meta.digest, meta: read.meta };
  }
}
