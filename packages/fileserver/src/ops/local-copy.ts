// The local copy a multi-source get leaves: the sealed header, then each range's records as the
// range is sent, written with cas-store's expectedDigest so only the whole right blob commits.

import { PassThrough } from 'node:stream';
import { BOUNDS } from '../config.js';
import { CODES, errorCode } from '../errors.js';
import type { FetchComponents } from './peer-fetch.js';

/** Sealed bytes go to the disk in copies this large. */
const PIECE = 256 * 1024;

export class LocalCopy {
  readonly #c: FetchComponents;
  readonly #id: string;
  readonly #toDisk = new PassThrough({ highWaterMark: BOUNDS.localBuffer });
  readonly #writing: Promise<unknown>;
  readonly #started = performance.now();
  #ended = false;
  #failed = false;

  constructor(
    c: FetchComponents,
    ns: string,
    id: string,
    extra: Record<string, unknown>,
    digest: string,
    header: Buffer,
  ) {
    this.#c = c;
    this.#id = id;
    this.#writing = c.cas
      .write(ns, id, this.#toDisk, { extra, expectedDigest: digest, signal: c.life.halt })
      .finally(() => c.inventory.changed());
    // a write that fails (a full disk, a bad digest) costs only the copy, never the get
    this.#writing.catch(() => {
      this.#failed = true;
      this.#toDisk.destroy();
    });
    this.#toDisk.write(header);
  }

  /** Settles once the write is committed or undone. */
  get settled(): Promise<unknown> {
    return this.#writing.catch(() => {});
  }

  /**
   * Appends copies of sealed records (`bytes` may be reused once this resolves), waiting while
   * the disk is behind (the get's backpressure).
   */
  async write(bytes: Buffer): Promise<void> {
    const out = this.#toDisk;
    for (let at = 0; at < bytes.length; at += PIECE) {
      if (this.#failed || out.destroyed) return;
      if (!out.write(Buffer.from(bytes.subarray(at, at + PIECE)))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.on('drain', done);
          out.on('close', done);
        });
      }
    }
  }

  end(): void {
    this.#ended = true;
    this.#toDisk.end();
  }

  /** Drops a copy that will not be complete (the get failed or its reader went away). */
  abort(): void {
    if (!this.#ended) this.#toDisk.destroy();
  }

  /** After the last range: waits for the commit; a failed one is logged, the get stands. */
  async commit(): Promise<void> {
    try {
      await this.#writing;
      this.#c.metrics.transferDuration.observe(
        { op: 'fetch' },
        (performance.now() - this.#started) / 1000,
      );
    } catch (err) {
      const code = errorCode(err);
      const why =
        code === CODES.INTEGRITY
          ? 'ranges assembled from holders do not hash to the version'
          : 'fetched blob not kept locally';
      this.#c.log.warn({ id: this.#id, code }, why);
    }
  }
}
