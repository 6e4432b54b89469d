// What this node holds on its own disk, per (namespace, file id), kept beside the catalog so that
// repair and status never walk the blob tree; a walk only reconciles it after an unclean stop.

import { type CatalogDb, type HeldStats, nsRange, recordKey } from './catalog-db.js';

export interface Holding {
  ns: string;
  id: string;
  /** SHA-256 of the sealed blob held (64 hex), as in its metadata. */
  version: string;
  size: number;
  sealedSize: number;
  /** The version's put time (ms): the blob's `extra.putAt`, else its createdAt. */
  at: number;
}

interface Stored {
  v: Buffer;
  s: number;
  ss: number;
  at: number;
  /** The reconcile generation that last saw it. */
  g: number;
}

const WALK_BATCH = 1000;

function toHolding(key: Buffer, v: Stored): Holding {
  return {
    ns: key.toString('hex', 0, 32),
    id: key.toString('hex', 32, 64),
    version: Buffer.from(v.v).toString('hex'),
    size: v.s,
    sealedSize: v.ss,
    at: v.at,
  };
}

export interface ReconcileResult {
  /** Blobs the walk found that the index lacked, or held as another version. */
  added: number;
  changed: number;
  /** Entries for blobs the walk did not find. */
  removed: number;
}

export class Holdings {
  readonly #db: CatalogDb;
  #gen: number;

  constructor(db: CatalogDb) {
    this.#db = db;
    this.#gen = (db.meta.get('holdingsGen') as number | undefined) ?? 0;
  }

  get(ns: string, id: string): Holding | undefined {
    const key = recordKey(ns, id);
    const v = this.#db.holdings.get(key) as Stored | undefined;
    return v ? toHolding(key, v) : undefined;
  }

  /** Blobs and sealed bytes held, in one namespace or all: O(namespaces). */
  count(ns?: string): HeldStats {
    const list = ns === undefined ? this.#db.namespaces() : [ns];
    const out = { blobs: 0, bytes: 0 };
    for (const n of list) {
      const h = this.#db.held(n);
      out.blobs += h.blobs;
      out.bytes += h.bytes;
    }
    return out;
  }

  /** Every holding of `ns` in id order, read lazily (for repair). */
  *entries(ns: string): Generator<Holding> {
    for (const { key, value } of this.#db.holdings.getRange({ ...nsRange(ns), snapshot: false })) {
      yield toHolding(key, value as unknown as Stored);
    }
  }

  #put(h: Holding, gen: number, delta: Map<string, HeldStats>): 'added' | 'changed' | 'same' {
    const key = recordKey(h.ns, h.id);
    const old = this.#db.holdings.get(key) as Stored | undefined;
    const v = Buffer.from(h.version, 'hex');
    this.#db.holdings.putSync(key, { v, s: h.size, ss: h.sealedSize, at: h.at, g: gen });
    const d = delta.get(h.ns) ?? { blobs: 0, bytes: 0 };
    delta.set(h.ns, d);
    d.bytes += h.sealedSize - (old?.ss ?? 0);
    if (!old) {
      d.blobs++;
      return 'added';
    }
    return Buffer.from(old.v).equals(v) ? 'same' : 'changed';
  }

  #flush(delta: Map<string, HeldStats>): void {
    for (const [ns, d] of delta) {
      const cur = this.#db.held(ns);
      this.#db.meta.putSync(`held:${ns}`, {
        blobs: cur.blobs + d.blobs,
        bytes: cur.bytes + d.bytes,
      });
    }
  }

  /** Records that this node now holds `h` (after the blob's commit on disk). */
  async add(h: Holding): Promise<void> {
    await this.#db.transaction(() => this.addInTransaction(h));
  }

  /** add() inside a write transaction the caller runs (a put's record and holding change together). */
  addInTransaction(h: Holding): void {
    const delta = new Map<string, HeldStats>();
    this.#put(h, this.#gen, delta);
    this.#flush(delta);
  }

  /** Records that the blob is gone (after its delete); only `version` when given. */
  async remove(ns: string, id: string, version?: string): Promise<boolean> {
    const key = recordKey(ns, id);
    return this.#db.transaction(() => {
      const old = this.#db.holdings.get(key) as Stored | undefined;
      if (!old || (version !== undefined && Buffer.from(old.v).toString('hex') !== version))
        return false;
      this.#db.holdings.removeSync(key);
      this.#flush(new Map([[ns, { blobs: -1, bytes: -old.ss }]]));
      return true;
    });
  }

  /**
   * Rebuilds the index from a walk of the blob store (after an unclean stop, or the first start of
   * a node that has blobs from before the catalog): every blob walked is written, then entries the
   * walk did not see are removed. Adds made while it runs count as seen.
   */
  async reconcile(walk: AsyncIterable<Holding>): Promise<ReconcileResult> {
    const db = this.#db;
    const gen = this.#gen + 1;
    this.#gen = gen;
    await db.transaction(() => db.meta.putSync('holdingsGen', gen));
    const result: ReconcileResult = { added: 0, changed: 0, removed: 0 };
    let batch: Holding[] = [];
    const write = (items: Holding[]) =>
      db.transaction(() => {
        const delta = new Map<string, HeldStats>();
        for (const h of items) {
          const what = this.#put(h, gen, delta);
          if (what !== 'same') result[what]++;
        }
        this.#flush(delta);
      });
    for await (const h of walk) {
      batch.push(h);
      if (batch.length === WALK_BATCH) {
        await write(batch);
        batch = [];
      }
    }
    await write(batch);
    let from: Buffer | undefined;
    for (;;) {
      const stale: Array<{ key: Buffer; ns: string; ss: number }> = [];
      let last: Buffer | undefined;
      for (const { key, value } of db.holdings.getRange({ start: from, snapshot: false })) {
        last = key;
        const v = value as unknown as Stored;
        if (v.g < gen) stale.push({ key, ns: key.toString('hex', 0, 32), ss: v.ss });
        if (stale.length === WALK_BATCH) break;
      }
      if (!last) return result;
      from = Buffer.concat([last, Buffer.of(0)]);
      if (stale.length === 0) continue;
      await db.transaction(() => {
        const delta = new Map<string, HeldStats>();
        for (const s of stale) {
          const cur = db.holdings.get(s.key) as Stored | undefined;
          if (!cur || cur.g >= gen) continue;
          db.holdings.removeSync(s.key);
          result.removed++;
          const d = delta.get(s.ns) ?? { blobs: 0, bytes: 0 };
          d.blobs--;
          d.bytes -= cur.ss;
          delta.set(s.ns, d);
        }
        this.#flush(delta);
      });
    }
  }
}
