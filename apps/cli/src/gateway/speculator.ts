// The node backend's register of multipart uploads in progress and their speculative stores
// (speculation.ts): part writes pass through it, a deleted part aborts its upload's store, and
// compose asks it first.

import {
  AbortedError,
  type Attributes,
  type ObjectInfo,
  type PartOf,
  type WriteResult,
} from '@peerstash/gateway';
import type { Logger } from '../logger.js';
import { type Part, Speculation, type SpeculationIo, type StoredResult } from './speculation.js';
import type { Tee } from './tee.js';

export interface SpeculatorOptions {
  /** The longest the store waits for its next part (a paused upload): past it, it is aborted. */
  maxWaitMs?: number;
  logger?: Logger | undefined;
  /** Parts past the store's next one whose writes may go on (teed) at once (default 2). */
  aheadParts?: number;
  /** A held part write goes on anyway once the store took no new part for this long (2 s). */
  holdMs?: number;
}

/** Stop speculating when the node's replica streams might time out first (30 s by default). */
export const DEFAULT_MAX_WAIT_MS = 10_000;

interface Upload {
  target: string;
  /** Parts the spool committed (by number), as their writes reported them. */
  committed: Map<number, Part>;
  spec?: Speculation;
  touched: number;
}

/** Forgotten when untouched this long (an upload left incomplete). */
const FORGET_MS = 3600_000;

/** The node backend's speculative composition, one Speculation per upload in progress. */
export class Speculator {
  readonly #io: SpeculationIo;
  readonly #maxWaitMs: number;
  readonly #log: Logger | undefined;
  readonly #aheadParts: number;
  readonly #holdMs: number;
  readonly #uploads = new Map<string, Upload>();
  readonly #uploadOf = new Map<string, string>();
  /** Completions that took the fast path, and those that fell back to compose. */
  readonly stats = { speculative: 0, fellBack: 0 };

  constructor(io: SpeculationIo, options: SpeculatorOptions = {}) {
    this.#io = io;
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.#log = options.logger;
    this.#aheadParts = options.aheadParts ?? 2;
    this.#holdMs = options.holdMs ?? 2000;
  }

  /** Runs a part's spool write (`write` of the possibly teed source), feeding it if it is next. */
  async write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    hint: PartOf,
    write: (source: AsyncIterable<Uint8Array>) => Promise<WriteResult>,
  ): Promise<WriteResult> {
    const u = this.#upload(key, hint);
    if (u.target !== hint.target) {
      void this.#drop(hint.upload, 'the part names another target');
      return write(source);
    }
    let spec = u.spec;
    if (spec?.alive && spec.staleBy(hint.number)) {
      void spec.kill(new AbortedError(`part ${hint.number} was uploaded again after it was fed`));
    }
    if (!spec && hint.number === 1) {
      spec = new Speculation(hint.target, this.#io, u.committed, {
        maxWaitMs: this.#maxWaitMs,
        detachMs: this.#holdMs,
      });
      u.spec = spec;
    }
    if (spec?.alive) await spec.admit(hint.number, this.#aheadParts, this.#holdMs);
    let fed = source;
    let settle: ((v: string) => void) | undefined;
    let fail: ((e: unknown) => void) | undefined;
    let tee: Tee | undefined;
    if (spec?.wantsTee(hint.number, this.#aheadParts)) {
      const committed = new Promise<string>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
      committed.catch(() => {});
      ({ source: fed, tee } = spec.tee(hint.number, key, source, committed));
    }
    try {
      const r = await write(fed);
      u.committed.set(hint.number, { key, version: r.version });
      u.touched = Date.now();
      settle?.(r.version);
      return r;
    } catch (err) {
      if (tee) spec?.withdraw(hint.number, tee);
      fail?.(err);
      throw err;
    } finally {
      spec?.poke();
    }
  }

  /** Parts fed so far into `upload`'s speculative store; undefined when none runs (tests). */
  progress(upload: string): { fed: number; feeding?: number; alive: boolean } | undefined {
    const spec = this.#uploads.get(upload)?.spec;
    if (!spec) return undefined;
    const feeding = spec.current;
    return {
      fed: spec.fed.length,
      ...(feeding === undefined ? {} : { feeding }),
      alive: spec.alive,
    };
  }

  /** A part was deleted (Abort, or a part written after one): that upload's store is aborted. */
  async deleted(key: string): Promise<void> {
    const upload = this.#uploadOf.get(key);
    if (upload !== undefined) await this.#drop(upload, 'a part was deleted');
  }

  /**
   * Completes `target` from the speculative store when its fed parts begin `sources`; undefined
   * (the store aborted, nothing kept) when compose must run instead.
   */
  async compose(
    target: string,
    sources: ObjectInfo[],
    attributes: Attributes,
    signal: AbortSignal | undefined,
  ): Promise<WriteResult | undefined> {
    const upload = sources[0] && this.#uploadOf.get(sources[0].key);
    const u = upload === undefined ? undefined : this.#uploads.get(upload);
    const spec = u?.spec;
    if (upload === undefined || !u || !spec || spec.target !== target) {
      if (upload !== undefined) await this.#drop(upload, 'not speculated');
      this.stats.fellBack++;
      return undefined;
    }
    const parts = sources.map((s) => ({ key: s.key, version: s.version }));
    const fedBefore = spec.fed.length;
    const started = performance.now();
    let r: StoredResult | undefined = await spec.finish(parts, attributes, signal);
    let reason = r ? undefined : String((spec.failure as Error)?.message ?? spec.failure);
    // a replica stream that broke while the store waited for parts (a paused client, a stall):
    // the object is committed but short of copies, so compose writes it again (as a compose
    // from the start would have been written: to every replica linked now)
    const wanted = r ? await this.#io.replicasWanted().catch(() => 0) : 0;
    if (r && r.replicas < wanted) {
      reason = `${r.replicas} of ${wanted} replicas`;
      r = undefined;
    }
    this.#forget(upload);
    if (r) this.stats.speculative++;
    else this.stats.fellBack++;
    this.#log?.debug(
      {
        target,
        parts: parts.length,
        fedBefore,
        speculative: r !== undefined,
        ...(reason ? { reason } : {}),
        ms: Math.round(performance.now() - started),
      },
      r ? 's3 multipart composed speculatively' : 's3 multipart speculation fell back to compose',
    );
    return r;
  }

  #upload(key: string, hint: PartOf): Upload {
    let u = this.#uploads.get(hint.upload);
    const now = Date.now();
    if (!u) {
      for (const [id, old] of this.#uploads) {
        if (now - old.touched > FORGET_MS) void this.#drop(id, 'forgotten');
      }
      u = { target: hint.target, committed: new Map(), touched: now };
      this.#uploads.set(hint.upload, u);
    }
    u.touched = now;
    this.#uploadOf.set(key, hint.upload);
    return u;
  }

  async #drop(upload: string, why: string): Promise<void> {
    const u = this.#uploads.get(upload);
    this.#forget(upload);
    if (u?.spec?.alive) await u.spec.kill(new AbortedError(why));
  }

  #forget(upload: string): void {
    this.#uploads.delete(upload);
    for (const [key, id] of this.#uploadOf) if (id === upload) this.#uploadOf.delete(key);
  }
}
