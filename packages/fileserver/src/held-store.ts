// The node's blob store: cas-store whose every committed write and delete is also recorded in the
// catalog's holdings index, so repair and status read what this node holds without a walk.

import type {
  BlobMeta,
  ByteSource,
  DeleteOptions,
  WriteOptions,
  WriteResult,
} from '@peerstash/cas-store';
import { CasStore, type CasStoreOptions } from '@peerstash/cas-store';
import type { Holding, Holdings } from './catalog/holdings.js';
import { errorCode } from './errors.js';
import { plainSizeOfBlob } from './file-key.js';
import type { Logger } from './logger.js';
import { blobTime } from './versions.js';

/** The holding a stored blob is (plaintext size from its chunk size, time from its put). */
export function holdingOf(meta: BlobMeta): Holding {
  return {
    ns: meta.namespace,
    id: meta.key,
    version: meta.digest,
    size: plainSizeOfBlob(meta),
    sealedSize: meta.size,
    at: blobTime(meta.extra, meta.createdAt),
  };
}

export class HeldStore extends CasStore {
  readonly #holdings: Holdings;
  readonly #log: Logger;
  /** Index updates still running: idle() waits for them, so the catalog closes after the last. */
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: CasStoreOptions & { logger: Logger }, holdings: Holdings) {
    super(options);
    this.#holdings = holdings;
    this.#log = options.logger;
  }

  #track(fn: () => Promise<unknown>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // a missed update is found by the reconcile walk after the next unclean stop
    const p: Promise<void> = fn().then(
      () => {},
      (err: unknown) => this.#log.warn({ code: errorCode(err), err }, 'holdings index not updated'),
    );
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
    return p;
  }

  override async write(
    ns: string,
    key: string,
    source: ByteSource,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const r = await super.write(ns, key, source, options);
    const meta: BlobMeta = {
      namespace: ns,
      key,
      size: r.size,
      digest: r.digest,
      createdAt: Date.now(),
      ...(options.extra ? { extra: options.extra } : {}),
    };
    await this.#track(() => this.#holdings.add(holdingOf(meta)));
    return r;
  }

  override async delete(ns: string, key: string, options: DeleteOptions = {}): Promise<boolean> {
    const deleted = await super.delete(ns, key, options);
    if (deleted) {
      await this.#track(async () => {
        // a write of the key may have committed since: the index says what is there now
        const now = await super.stat(ns, key).catch(() => undefined);
        if (now) await this.#holdings.add(holdingOf(now));
        else await this.#holdings.remove(ns, key);
      });
    }
    return deleted;
  }

  /** Waits for writes and deletes in progress and for their index updates. */
  override async idle(): Promise<void> {
    await super.idle();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stopping: after idle(), no more index updates (the catalog closes next). */
  detach(): void {
    this.#closed = true;
  }
}
