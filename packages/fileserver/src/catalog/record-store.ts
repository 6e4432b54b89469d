// Writes to the catalog's records, all in one place: apply a record by the merge rule and change
// its summary sums, name entry, counters and expiry entry in the same transaction; prune; quarantine.

import { errorCode } from '../errors.js';
import {
  type CatalogDb,
  type CatalogStats,
  expiryKey,
  recordKey,
  splitExpiryKey,
} from './catalog-db.js';
import type { HybridClock } from './hlc.js';
import { putName, removeName } from './name-index.js';
import {
  type CatalogRecord,
  compareRecords,
  decodeRecordBody,
  encodeRecordBody,
  openName,
  recordHash,
  type Vault,
} from './record.js';
import { HASH_BYTES, SumDeltas } from './summary-tree.js';

/**
 * applied: it is the new winner. kept: what the node holds wins (or is the same record).
 * stale: no record of the file here and not newer than the tombstones this node has forgotten
 * (ERR_STALE_RECORD). expired: a tombstone past its TTL for a file this node does not know.
 * refused: invalid (ERR_BAD_RECORD) or from a clock too far ahead (ERR_CLOCK_DRIFT).
 */
export type ApplyOutcome = 'applied' | 'kept' | 'stale' | 'expired' | 'refused';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** The error code of a stale or refused record. */
  code?: string;
}

export interface ApplyInput {
  record: CatalogRecord;
  /** The plaintext key when the caller already knows it (the writer): spares opening the name. */
  name?: string;
}

export interface QuarantinedRecord {
  record: CatalogRecord;
  reason: string;
  /** When it was held back (ms). */
  at: number;
}

export interface RecordStoreOptions {
  db: CatalogDb;
  vault: Vault | undefined;
  clock: HybridClock;
  tombstoneTtlMs: number;
  now: () => number;
}

const PRUNE_BATCH = 5000;

/** Counter and sum changes of one transaction, written once at its end. */
class Batch {
  readonly sums = new SumDeltas();
  readonly stats = new Map<string, CatalogStats>();

  count(ns: string, r: CatalogRecord, sign: 1 | -1): void {
    let s = this.stats.get(ns);
    if (!s) {
      s = { files: 0, bytes: 0, tombstones: 0 };
      this.stats.set(ns, s);
    }
    if (r.deleted) s.tombstones += sign;
    else {
      s.files += sign;
      s.bytes += sign * r.size;
    }
  }

  flush(db: CatalogDb, clock: HybridClock): void {
    this.sums.flush(db);
    for (const [ns, d] of this.stats) {
      const cur = db.stats(ns);
      db.meta.putSync(`stats:${ns}`, {
        files: cur.files + d.files,
        bytes: cur.bytes + d.bytes,
        tombstones: cur.tombstones + d.tombstones,
      });
    }
    db.meta.putSync('clock', clock.last);
  }
}

/** A stored record value: its hash's first 8 bytes (for the sums), then the body. */
function storedValue(r: CatalogRecord): { value: Buffer; hash: Buffer } {
  const body = encodeRecordBody(r);
  const hash = recordHash(r, body).subarray(0, HASH_BYTES);
  return { value: Buffer.concat([hash, body]), hash };
}

export class RecordStore {
  readonly #o: RecordStoreOptions;
  // read on every apply, changed rarely: kept here rather than read from the store each time
  readonly #pruned = new Map<string, number>();
  #quarantineSize: number;

  constructor(options: RecordStoreOptions) {
    this.#o = options;
    this.#quarantineSize = options.db.quarantine.getKeysCount();
  }

  #prunedOf(ns: string): number {
    let wall = this.#pruned.get(ns);
    if (wall === undefined) {
      wall = this.#o.db.pruned(ns);
      this.#pruned.set(ns, wall);
    }
    return wall;
  }

  get(ns: string, id: string): CatalogRecord | undefined {
    const value = this.#o.db.records.get(recordKey(ns, id));
    return value ? decodeRecordBody(ns, id, value.subarray(HASH_BYTES)) : undefined;
  }

  /** The 8-byte summary hash of the record held for (ns, id). */
  hash(ns: string, id: string): Buffer | undefined {
    return this.#o.db.records.get(recordKey(ns, id))?.subarray(0, HASH_BYTES);
  }

  #names(r: CatalogRecord): boolean {
    return this.#o.vault !== undefined && r.ns === this.#o.vault.ns;
  }

  /** Checks that need no database: the clock bound, and on a vault node that the name opens. */
  #precheck(input: ApplyInput): string | ApplyResult {
    const { record } = input;
    try {
      this.#o.clock.check(record.hlc);
      if (!this.#names(record)) return '';
      return input.name ?? openName((this.#o.vault as Vault).key, record);
    } catch (err) {
      return { outcome: 'refused', code: errorCode(err) ?? 'ERR_BAD_RECORD' };
    }
  }

  /**
   * Applies records by the merge rule in one transaction; one result per input, in order. `also`
   * runs in the same transaction (a writer's holding of the blob it just stored).
   */
  async applyMany(inputs: readonly ApplyInput[], also?: () => void): Promise<ApplyResult[]> {
    const checked = inputs.map((input) => this.#precheck(input));
    const { db, clock } = this.#o;
    for (let i = 0; i < inputs.length; i++) {
      if (typeof checked[i] === 'string') clock.observe(inputs[i]!.record.hlc);
    }
    return db.transaction(() => {
      const batch = new Batch();
      const results = inputs.map((input, i) => {
        const name = checked[i] as string | ApplyResult;
        return typeof name === 'string' ? this.#applyOne(batch, input.record, name) : name;
      });
      batch.flush(db, clock);
      also?.();
      return results;
    });
  }

  #applyOne(batch: Batch, r: CatalogRecord, name: string): ApplyResult {
    const { db } = this.#o;
    const key = recordKey(r.ns, r.id);
    const stored = db.records.get(key);
    const old = stored ? decodeRecordBody(r.ns, r.id, stored.subarray(HASH_BYTES)) : undefined;
    if (old && compareRecords(r, old) <= 0) return { outcome: 'kept' };
    if (!old) {
      if (r.deleted && r.hlc.wall < this.#o.now() - this.#o.tombstoneTtlMs)
        return { outcome: 'expired' };
      if (r.hlc.wall <= this.#prunedOf(r.ns)) return { outcome: 'stale', code: 'ERR_STALE_RECORD' };
    }
    const { value, hash } = storedValue(r);
    db.records.putSync(key, value);
    batch.sums.add(r.ns, r.id, hash, 1);
    batch.count(r.ns, r, 1);
    if (r.deleted) db.expiry.putSync(expiryKey(r.hlc.wall, r.ns, r.id), Buffer.of(1));
    if (old && stored) this.#forget(batch, old, stored);
    if (this.#names(r)) {
      if (r.deleted) removeName(db, r.ns, name);
      else putName(db, r, name);
    }
    // a quarantined copy this record supersedes is settled
    const held = this.#quarantineSize > 0 ? db.quarantine.get(key) : undefined;
    if (held && compareRecords(r, this.#quarantined(key, held).record) > 0) {
      db.quarantine.removeSync(key);
      this.#quarantineSize--;
    }
    return { outcome: 'applied' };
  }

  /** Takes `old` (no longer the winner) out of the sums, counters and expiry index. */
  #forget(batch: Batch, old: CatalogRecord, stored: Buffer): void {
    batch.sums.add(old.ns, old.id, stored.subarray(0, HASH_BYTES), -1);
    batch.count(old.ns, old, -1);
    if (old.deleted) this.#o.db.expiry.removeSync(expiryKey(old.hlc.wall, old.ns, old.id));
  }

  /**
   * Drops tombstones older than the TTL (by their own clock, so every node drops the same ones at
   * about the same time) and remembers the newest dropped, per namespace. Returns how many.
   */
  async prune(): Promise<number> {
    const { db } = this.#o;
    let total = 0;
    for (;;) {
      const cutoff = this.#o.now() - this.#o.tombstoneTtlMs;
      const end = expiryKey(Math.max(0, cutoff), '0'.repeat(64), '0'.repeat(64));
      const [seen, dropped] = await db.transaction(() => {
        const batch = new Batch();
        const pruned = new Map<string, number>();
        let count = 0;
        let removed = 0;
        // collected first: the range is not walked while it is being deleted from
        const keys = [...db.expiry.getKeys({ end, limit: PRUNE_BATCH })] as Buffer[];
        for (const key of keys) {
          const { wall, ns, id } = splitExpiryKey(key);
          db.expiry.removeSync(key);
          count++;
          const rk = recordKey(ns, id);
          const stored = db.records.get(rk);
          if (!stored) continue;
          const r = decodeRecordBody(ns, id, stored.subarray(HASH_BYTES));
          if (!r.deleted || r.hlc.wall !== wall) continue;
          db.records.removeSync(rk);
          removed++;
          batch.sums.add(ns, id, stored.subarray(0, HASH_BYTES), -1);
          batch.count(ns, r, -1);
          pruned.set(ns, Math.max(pruned.get(ns) ?? 0, wall));
        }
        for (const [ns, wall] of pruned) {
          if (wall > this.#prunedOf(ns)) {
            db.meta.putSync(`pruned:${ns}`, wall);
            this.#pruned.set(ns, wall);
          }
        }
        batch.flush(db, this.#o.clock);
        return [count, removed] as const;
      });
      total += dropped;
      if (seen < PRUNE_BATCH) return total;
    }
  }

  #quarantined(key: Buffer, v: Record<string, unknown>): QuarantinedRecord {
    const ns = key.toString('hex', 0, 32);
    const id = key.toString('hex', 32, 64);
    return {
      record: decodeRecordBody(ns, id, v.body as Buffer),
      reason: String(v.reason),
      at: Number(v.at),
    };
  }

  /**
   * Moves the record held for (ns, id) out of the catalog into quarantine: kept on disk, no longer
   * listed, summarized or offered to peers, until an operator releases or drops it.
   */
  async quarantine(ns: string, id: string, reason: string): Promise<boolean> {
    const { db } = this.#o;
    const key = recordKey(ns, id);
    return db.transaction(() => {
      const stored = db.records.get(key);
      if (!stored) return false;
      const r = decodeRecordBody(ns, id, stored.subarray(HASH_BYTES));
      const batch = new Batch();
      db.records.removeSync(key);
      this.#forget(batch, r, stored);
      if (this.#names(r) && !r.deleted) {
        removeName(db, ns, openName((this.#o.vault as Vault).key, r));
      }
      if (!db.quarantine.doesExist(key)) this.#quarantineSize++;
      db.quarantine.putSync(key, { body: encodeRecordBody(r), reason, at: this.#o.now() });
      batch.flush(db, this.#o.clock);
      return true;
    });
  }

  quarantined(): QuarantinedRecord[] {
    const out: QuarantinedRecord[] = [];
    for (const { key, value } of this.#o.db.quarantine.getRange({})) {
      out.push(this.#quarantined(key as Buffer, value));
    }
    return out;
  }

  /** Takes a record out of quarantine and returns it (the caller drops it or puts it again). */
  async unquarantine(ns: string, id: string): Promise<CatalogRecord | undefined> {
    const { db } = this.#o;
    const key = recordKey(ns, id);
    return db.transaction(() => {
      const v = db.quarantine.get(key);
      if (!v) return undefined;
      db.quarantine.removeSync(key);
      this.#quarantineSize--;
      return this.#quarantined(key, v).record;
    });
  }
}
