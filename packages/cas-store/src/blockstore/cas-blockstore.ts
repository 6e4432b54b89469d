// CasBlockstore: the js-stores `interface-blockstore` contract over a CasStore namespace, so a Helia
// node (or anything else that takes a Blockstore) gets cas-store's atomic, fsynced, crash-swept writes.

import { createHash } from 'node:crypto';
import type { Blockstore, InputPair, Pair } from 'interface-blockstore';
import { NotFoundError } from 'interface-store';
import type { CID } from 'multiformats/cid';
import { CasStore, type Logger, type SignalOptions } from '../cas-store.js';
import { AbortError, NotFoundError as BlobNotFoundError, InvalidArgumentError } from '../errors.js';
import type { ByteSource } from '../pump.js';
import { assertNamespace } from '../validate.js';
import { blockKey, type CidLike, cidOf, cidRecord, expectedSha256 } from './block-key.js';
import { orderedWindow } from './ordered-window.js';

/** The namespace blocks go to when none is given: SHA-256 of `@peerstash/cas-store/blockstore`. */
export const DEFAULT_BLOCKSTORE_NAMESPACE = createHash('sha256')
  .update('@peerstash/cas-store/blockstore')
  .digest('hex');

export interface CasBlockstoreOptions {
  /** The cas-store root folder; created on open. One process (one instance) owns a root. */
  root: string;
  /** 64 lowercase hex characters; default DEFAULT_BLOCKSTORE_NAMESPACE. */
  namespace?: string;
  /**
   * Refuse a block whose bytes do not hash to its sha2-256 CID (IntegrityError ERR_INTEGRITY,
   * nothing kept). Default true; other hash functions are never checked.
   */
  verify?: boolean;
  /** Puts or deletes in flight in putMany/deleteMany; default 32. */
  concurrency?: number;
  logger?: Logger;
}

type BlockBytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

function asSource(bytes: BlockBytes): ByteSource {
  // A Uint8Array is itself iterable (of numbers), so it is wrapped rather than iterated.
  return bytes instanceof Uint8Array ? [bytes] : (bytes as ByteSource);
}

export class CasBlockstore implements Blockstore {
  readonly namespace: string;
  readonly #store: CasStore;
  readonly #verify: boolean;
  readonly #concurrency: number;
  #opening: Promise<void> | undefined;
  /** Puts and deletes from their first await on (the store sees them only once opened). */
  readonly #busy = new Set<Promise<unknown>>();

  constructor(options: CasBlockstoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options must be an object');
    }
    const { root, namespace = DEFAULT_BLOCKSTORE_NAMESPACE, verify = true } = options;
    const { concurrency = 32, logger } = options;
    assertNamespace(namespace);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError('concurrency must be a positive integer');
    }
    this.#store = new CasStore({ root, logger });
    this.namespace = namespace;
    this.#verify = verify;
    this.#concurrency = concurrency;
  }

  /** The folder the blocks live under (`<root>/<namespace>/…`). */
  get root(): string {
    return this.#store.root;
  }

  /**
   * Creates the root and removes what a crash left (temp files, orphans). Every call does this
   * once by itself if open() was not awaited first; Helia calls it through start().
   */
  async open(): Promise<void> {
    this.#opening ??= this.#store.open().then(
      () => {},
      (err: unknown) => {
        this.#opening = undefined;
        throw err;
      },
    );
    await this.#opening;
  }

  /** Waits for every put and delete in progress (clean-up included); a later call opens again. */
  async close(): Promise<void> {
    while (this.#busy.size > 0) await Promise.allSettled([...this.#busy]);
    await this.#store.idle();
    this.#opening = undefined;
  }

  /** libp2p/Helia lifecycle: a Helia node starts and stops its blockstore with itself. */
  async start(): Promise<void> {
    await this.open();
  }

  async stop(): Promise<void> {
    await this.close();
  }

  async put(cid: CID, bytes: BlockBytes, options: SignalOptions = {}): Promise<CID> {
    const key = blockKey(cid);
    checkSignal(options.signal);
    const like = cid as unknown as CidLike;
    await this.#track(async () => {
      await this.open();
      await this.#store.write(this.namespace, key, asSource(bytes), {
        extra: cidRecord(like),
        expectedDigest: this.#verify ? expectedSha256(like) : undefined,
        signal: options.signal,
      });
    });
    return cid;
  }

  async *putMany(
    source: Iterable<InputPair> | AsyncIterable<InputPair>,
    options: SignalOptions = {},
  ): AsyncGenerator<CID> {
    checkSignal(options.signal);
    yield* orderedWindow(source, this.#concurrency, ({ cid, bytes }) =>
      this.put(cid, bytes, options),
    );
  }

  async *get(cid: CID, options: SignalOptions = {}): AsyncGenerator<Uint8Array> {
    const key = blockKey(cid);
    yield* this.#bytes(key, cid, options.signal);
  }

  async *getMany(
    source: Iterable<CID> | AsyncIterable<CID>,
    options: SignalOptions = {},
  ): AsyncGenerator<Pair> {
    checkSignal(options.signal);
    for await (const cid of source) {
      checkSignal(options.signal);
      yield { cid, bytes: this.get(cid, options) };
    }
  }

  async *getAll(options: SignalOptions = {}): AsyncGenerator<Pair> {
    checkSignal(options.signal);
    await this.open();
    for await (const meta of this.#store.list(this.namespace)) {
      checkSignal(options.signal);
      const cid = cidOf(meta);
      if (!cid) continue; // not a block: something else wrote into this namespace
      yield { cid, bytes: this.#bytes(meta.key, cid, options.signal) };
    }
  }

  async has(cid: CID, options: SignalOptions = {}): Promise<boolean> {
    const key = blockKey(cid);
    checkSignal(options.signal);
    await this.open();
    return this.#store.has(this.namespace, key);
  }

  /** Removes the block; a block that is not there is not an error. */
  async delete(cid: CID, options: SignalOptions = {}): Promise<void> {
    const key = blockKey(cid);
    checkSignal(options.signal);
    await this.#track(async () => {
      await this.open();
      await this.#store.delete(this.namespace, key);
    });
  }

  async #track(work: () => Promise<void>): Promise<void> {
    const op = work();
    this.#busy.add(op);
    try {
      await op;
    } finally {
      this.#busy.delete(op);
    }
  }

  async *deleteMany(
    source: Iterable<CID> | AsyncIterable<CID>,
    options: SignalOptions = {},
  ): AsyncGenerator<CID> {
    checkSignal(options.signal);
    yield* orderedWindow(source, this.#concurrency, async (cid) => {
      await this.delete(cid, options);
      return cid;
    });
  }

  /** The block's bytes as they come off disk; nothing is opened until the first pull. */
  async *#bytes(
    key: string,
    cid: unknown,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Buffer> {
    checkSignal(signal);
    await this.open();
    let stream: AsyncIterable<Buffer>;
    try {
      ({ stream } = await this.#store.read(this.namespace, key, { signal }));
    } catch (err) {
      if (err instanceof BlobNotFoundError) {
        throw new NotFoundError(`block ${String(cid)} not found`);
      }
      throw err;
    }
    yield* stream;
  }
}
