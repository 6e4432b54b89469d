// The catalog's embedded store: one LMDB environment with a sub-database per index, the key
// layouts they share, small typed meta values, and the clean-shutdown marker.

import { type Database, open, type RootDatabase } from 'lmdb';

/** Folder of the environment inside a node's data dir. */
export const CATALOG_DIR = 'catalog';
const FORMAT = 1;

/** What the meta sub-database holds, by key. */
export interface CatalogStats {
  /** Live records (files the cluster holds) and their plaintext bytes. */
  files: number;
  bytes: number;
  tombstones: number;
}

export interface HeldStats {
  blobs: number;
  /** Sealed bytes on this node's disk. */
  bytes: number;
}

export class CatalogDb {
  readonly env: RootDatabase;
  /** ns|id (64 bytes) → hash (8) | record body (CBOR): the winning record of each file. */
  readonly records: Database<Buffer, Buffer>;
  /** ns|id → what this node holds of the file (msgpack HoldingValue). */
  readonly holdings: Database<Record<string, unknown>, Buffer>;
  /** Vault nodes only: ns|plaintext name → [id, version, size, sealed size, wall, name?] (CBOR). */
  readonly names: Database<Buffer, Buffer>;
  /** ns|depth|id prefix → XOR of record hashes (8) | count (4): the incremental sync summaries. */
  readonly sums: Database<Buffer, Buffer>;
  /** wall (8)|ns|id → 1 byte: tombstones in the order they expire. */
  readonly expiry: Database<Buffer, Buffer>;
  /** ns|id → { body, reason, at } (msgpack): records held back from the catalog (see DESIGN). */
  readonly quarantine: Database<Record<string, unknown>, Buffer>;
  readonly meta: Database<unknown, string>;
  /** True when the last run did not close the store (or it is new): holdings need a walk. */
  readonly needsWalk: boolean;
  #closed = false;

  private constructor(path: string) {
    this.env = open({ path, maxDbs: 12 });
    const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
    this.records = this.env.openDB({ name: 'records', ...binary });
    this.names = this.env.openDB({ name: 'names', ...binary });
    this.sums = this.env.openDB({ name: 'sums', ...binary });
    this.expiry = this.env.openDB({ name: 'expiry', ...binary });
    this.holdings = this.env.openDB({ name: 'holdings', keyEncoding: 'binary' });
    this.quarantine = this.env.openDB({ name: 'quarantine', keyEncoding: 'binary' });
    this.meta = this.env.openDB({ name: 'meta' });
    const format = this.meta.get('format');
    if (format !== undefined && format !== FORMAT) {
      throw new Error(`catalog store format ${String(format)} is not ${FORMAT}`);
    }
    // a walk cut short by a stop leaves its mark, so the next start walks again
    this.needsWalk = this.meta.get('clean') !== true || this.meta.get('walk') === 'pending';
    // from here until close() the store counts as not cleanly shut down
    this.meta.transactionSync(() => {
      this.meta.putSync('format', FORMAT);
      this.meta.putSync('clean', false);
    });
  }

  /** Opens (creating when absent) the environment at `path`: O(1), whatever it holds. */
  static open(path: string): CatalogDb {
    return new CatalogDb(path);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` in a write transaction (batched with others of the same event turn; durable on resolve). */
  transaction<T>(fn: () => T): Promise<T> {
    return this.env.transaction(fn);
  }

  /** Marks a clean shutdown once every write is on disk, then closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.env.flushed;
    this.meta.transactionSync(() => this.meta.putSync('clean', true));
    await this.env.close();
  }

  stats(ns: string): CatalogStats {
    return (
      (this.meta.get(`stats:${ns}`) as CatalogStats | undefined) ?? {
        files: 0,
        bytes: 0,
        tombstones: 0,
      }
    );
  }

  held(ns: string): HeldStats {
    return (this.meta.get(`held:${ns}`) as HeldStats | undefined) ?? { blobs: 0, bytes: 0 };
  }

  /** The newest tombstone clock (wall ms) this node has pruned in `ns`: what it has forgotten. */
  pruned(ns: string): number {
    return (this.meta.get(`pruned:${ns}`) as number | undefined) ?? 0;
  }

  /** Namespaces with any record or holding. */
  namespaces(): string[] {
    const out = new Set<string>();
    for (const prefix of ['stats:', 'held:']) {
      const end = `${prefix.slice(0, -1)};`;
      for (const key of this.meta.getKeys({ start: prefix, end })) {
        out.add(String(key).slice(prefix.length));
      }
    }
    return [...out].sort();
  }
}

export function recordKey(ns: string, id: string): Buffer {
  return Buffer.from(ns + id, 'hex');
}

export function splitRecordKey(key: Buffer): { ns: string; id: string } {
  return { ns: key.toString('hex', 0, 32), id: key.toString('hex', 32, 64) };
}

/** The first and past-the-last key of a namespace in a ns|… keyed sub-database. */
export function nsRange(ns: string): { start: Buffer; end: Buffer } {
  const start = Buffer.from(ns, 'hex');
  // past every 64-byte key of the namespace, ids starting with 0xff included
  return { start, end: Buffer.concat([start, Buffer.alloc(33, 0xff)]) };
}

export function expiryKey(wall: number, ns: string, id: string): Buffer {
  const out = Buffer.alloc(8 + 64);
  out.writeUIntBE(wall, 2, 6);
  out.write(ns + id, 8, 'hex');
  return out;
}

export function splitExpiryKey(key: Buffer): { wall: number; ns: string; id: string } {
  return {
    wall: key.readUIntBE(2, 6),
    ns: key.toString('hex', 8, 40),
    id: key.toString('hex', 40, 72),
  };
}
