// Speculative in-order composition of S3 multipart uploads: once part 1 of an upload arrives,
// the final object's store begins, fed part by part in number order — straight from a part's
// own write when it is the one wanted next (a tee), else from the spool once it is there. At
// Complete, if the parts named start with the ones fed, the rest are fed from the spool and the
// store commits; otherwise (or if the store failed or waited too long) it is aborted, nothing of
// it is kept, and compose falls back to one streaming store of the spooled parts. Speculator
// (speculator.ts) keeps one per upload in progress.

import {
  AbortedError,
  type Attributes,
  GatewayError,
  type ReadResult,
  type WriteResult,
} from '@peerstash/gateway';
import { Tee, teed } from './tee.js';

/** A part as stored: the spool's key and version (a new write of the part changes it). */
export interface Part {
  key: string;
  version: string;
}

/** The next part fed: from its own write (a tee), or read from the spool. */
interface Step {
  number: number;
  key: string;
  version?: string;
  tee?: Tee;
  /** The tee'd write's version once the spool committed it (rejects when it failed). */
  committed?: Promise<string>;
}

export interface SpeculationIo {
  /** A streaming store of `source` into `key` (the node's store with its signal and attributes). */
  store(
    key: string,
    source: AsyncIterable<Uint8Array>,
    options: { signal: AbortSignal; attributes: () => Attributes | Promise<Attributes> },
  ): Promise<StoredResult>;
  read(key: string): Promise<ReadResult>;
  /** How many replicas a store now should reach (R, or fewer when fewer peers are linked). */
  replicasWanted(): Promise<number>;
}

export interface StoredResult extends WriteResult {
  /** Peers that acknowledged a replica. */
  replicas: number;
}

class Stalled extends GatewayError {
  constructor(ms: number) {
    super('ERR_TIMEOUT', `no next part within ${ms} ms`);
  }
}

/** One upload's speculative store. */
export class Speculation {
  readonly target: string;
  readonly #io: SpeculationIo;
  readonly #committed: Map<number, Part>;
  readonly #maxWaitMs: number;
  readonly #detachMs: number;
  readonly #ac = new AbortController();
  /** Parts fed whole, in order. */
  readonly fed: Part[] = [];
  /** The part being fed now. */
  current: number | undefined;
  /** Part writes offered as tees, not yet taken (each waits with ≤ 1 MiB queued). */
  readonly #offered = new Map<number, Step>();
  /** The tee being read now (closed on abort, so its write never waits on a dead store). */
  #feeding: Tee | undefined;
  /** Set at Complete: every part of the object, in order (the fed ones first). */
  #plan: Part[] | undefined;
  #attributes: Attributes | undefined;
  #wake: (() => void) | undefined;
  /** Part writes held back until the store comes near them (admit). */
  readonly #held = new Set<() => void>();
  failure: unknown;
  readonly done: Promise<StoredResult>;

  constructor(
    target: string,
    io: SpeculationIo,
    committed: Map<number, Part>,
    limits: { maxWaitMs: number; detachMs: number },
  ) {
    this.target = target;
    this.#io = io;
    this.#committed = committed;
    this.#maxWaitMs = limits.maxWaitMs;
    this.#detachMs = Math.min(limits.detachMs, limits.maxWaitMs);
    this.done = io.store(target, this.#source(), {
      signal: this.#ac.signal,
      attributes: () => {
        if (!this.#attributes) throw new AbortedError('no Complete');
        return this.#attributes;
      },
    });
    this.done.catch((err: unknown) => {
      this.failure ??= err;
      this.#ac.abort(err);
      this.#dropOffers();
      this.#feeding?.close();
      this.#poke();
      this.#release();
    });
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  /** The number the store wants next. */
  get next(): number {
    return this.fed.length + 1;
  }

  /**
   * Whether a write of part `n` starting now can be fed as it arrives: it is one of the `ahead`
   * + 1 parts after the one the store takes now (whose last chunks may still be on their way).
   */
  wantsTee(n: number, ahead: number): boolean {
    const front = this.current ?? this.fed.length;
    return (
      this.alive &&
      !this.#plan &&
      n > front &&
      n <= front + 1 + ahead &&
      !this.#offered.has(n) &&
      !this.#committed.has(n)
    );
  }

  /** `source` of part `n`'s write, teed into the store. */
  tee(n: number, key: string, source: AsyncIterable<Uint8Array>, committed: Promise<string>) {
    // the part right after the one being fed waits for the store rather than spooling alone:
    // the store would only wait for that write to commit
    const tee = new Tee(
      () => this.withdraw(n, tee),
      () => n !== (this.current ?? this.fed.length) + 1,
    );
    this.#offered.set(n, { number: n, key, tee, committed });
    this.#poke();
    return { source: teed(source, tee), tee };
  }

  /** A teed write failed before the store took it: its retry can be fed instead. */
  withdraw(n: number, tee: Tee): void {
    if (this.#offered.get(n)?.tee !== tee) return;
    this.#offered.delete(n);
    tee.close();
  }

  /** Lets every offered write go on to the spool alone (it is read from there when due). */
  #dropOffers(): void {
    for (const o of this.#offered.values()) o.tee?.close();
    this.#offered.clear();
  }

  /**
   * Waits until part `n` is at most `ahead` parts past the one the store takes next (or the
   * speculation ended, or Complete came, or the store moved on to no new part for `holdMs`): a
   * client sending many parts at once then cannot starve the store of the node's CPU. The
   * request's body waits unread meanwhile (TCP backpressure).
   */
  async admit(n: number, ahead: number, holdMs: number): Promise<void> {
    const front = () => this.current ?? this.fed.length;
    const ok = () => !this.alive || this.#plan !== undefined || n <= front() + 1 + ahead;
    let seen = `${this.current}/${this.fed.length}`;
    let deadline = performance.now() + holdMs;
    while (!ok()) {
      const now = `${this.current}/${this.fed.length}`;
      if (now !== seen) {
        seen = now;
        deadline = performance.now() + holdMs;
      }
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#held.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#held.add(done);
      });
    }
  }

  #release(): void {
    for (const done of [...this.#held]) done();
  }

  /** Whether a new write of part `n` makes what was fed stale. */
  staleBy(n: number): boolean {
    return n < this.next || n === this.current;
  }

  kill(reason: unknown): Promise<void> {
    this.failure ??= reason;
    this.#ac.abort(reason);
    this.#dropOffers();
    this.#feeding?.close();
    this.#poke();
    this.#release();
    return this.done.then(
      () => {},
      () => {},
    );
  }

  /**
   * Feeds the rest of `parts` and commits with `attributes`; undefined (and nothing kept) when
   * the parts fed so far are not where `parts` starts, or the store fails.
   */
  async finish(
    parts: Part[],
    attributes: Attributes,
    signal: AbortSignal | undefined,
  ): Promise<StoredResult | undefined> {
    const fits = this.fed.length <= parts.length && this.fed.every((p, i) => same(p, parts[i]!));
    if (!this.alive || !fits) {
      await this.kill(new AbortedError('Complete names other parts than were fed'));
      return undefined;
    }
    this.#attributes = attributes;
    this.#plan = parts;
    // tees offered but not taken are left to their writes: the plan reads the spool
    this.#dropOffers();
    this.#poke();
    this.#release();
    const onAbort = () => void this.kill(new AbortedError('Complete was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.done;
    } catch {
      return undefined;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async *#source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const step = await this.#step();
      if (!step) return;
      this.current = step.number;
      this.#release();
      let version: string;
      if (step.tee) {
        this.#feeding = step.tee;
        yield* step.tee.chunks();
        this.#feeding = undefined;
        version = await step.committed!;
      } else {
        const r = await this.#io.read(step.key);
        if (r.info.version !== step.version) {
          r.stream.destroy();
          throw new AbortedError(`${step.key} changed while it was fed`);
        }
        for await (const c of r.stream) yield c as Uint8Array;
        version = step.version;
      }
      const part = { key: step.key, version };
      const planned = this.#plan?.[this.fed.length];
      if (planned && !same(planned, part)) throw new AbortedError(`${step.key} was replaced`);
      this.fed.push(part);
      this.current = undefined;
      this.#release();
    }
  }

  /** The next part to feed, waiting (at most maxWaitMs) for it to arrive; undefined at the end. */
  async #step(): Promise<Step | undefined> {
    let waited = 0;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.#plan) {
        const p = this.#plan[this.fed.length];
        return p && { number: this.fed.length + 1, ...p };
      }
      const offered = this.#offered.get(this.next);
      if (offered) {
        this.#offered.delete(this.next);
        offered.tee?.take();
        return offered;
      }
      const stored = this.#committed.get(this.next);
      if (stored) return { number: this.next, ...stored };
      if (waited >= this.#maxWaitMs) {
        void this.kill(new Stalled(this.#maxWaitMs));
        throw this.failure;
      }
      // the part wanted is not coming while later ones wait in their tees: perhaps the client
      // sends it only once one of those is answered, so they go on to the spool
      if (waited >= this.#detachMs) this.#dropOffers();
      const from = performance.now();
      const until = waited < this.#detachMs ? this.#detachMs : this.#maxWaitMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - waited);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waited += performance.now() - from;
    }
  }

  /** Wakes the store's feeder (a part it may want was committed). */
  poke(): void {
    this.#poke();
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function same(a: Part, b: Part): boolean {
  return a.key === b.key && a.version === b.version;
}
