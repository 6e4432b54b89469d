// The catalog of one node: every file version of the cluster as a small record, its name index
// (vault nodes), what this node holds, and the sums that keep it in sync — the node's one handle on them.

import { deriveFileId } from '@peerstash/crypto';
import { errorCode, NoVaultKeyError } from '../errors.js';
import { checkFileKey } from '../file-key.js';
import { CatalogDb, recordKey } from './catalog-db.js';
import { BadRecordError } from './errors.js';
import { type Hlc, HybridClock } from './hlc.js';
import { type Holding, Holdings } from './holdings.js';
import { getName, type ListPage, type ListQuery, listNames, type NameEntry } from './name-index.js';
import {
  type Attributes,
  type CatalogRecord,
  decodeRecord,
  encodeRecord,
  makePutRecord,
  makeTombstone,
  openAttributes,
  sealAttributes,
  type Vault,
} from './record.js';
import {
  type ApplyInput,
  type ApplyResult,
  type QuarantinedRecord,
  RecordStore,
} from './record-store.js';
import { HASH_BYTES, type SummarySource, storedSummary, sumKey } from './summary-tree.js';

export const DEFAULT_TOMBSTONE_TTL_MS = 7 * 24 * 3600 * 1000;

export interface CatalogOptions {
  /** Directory of the LMDB environment (a node: `<dataDir>/catalog`). */
  path: string;
  nodeId: string;
  /** Absent on a storage-only node: it keeps sealed records and never a plaintext name. */
  vault?: Vault;
  tombstoneTtlMs?: number;
  maxDriftMs?: number;
  /** Wall clock (ms), for tests. */
  now?: () => number;
}

/** A record this node wrote: what to send to every peer, and how applying it here went. */
export interface Committed {
  record: CatalogRecord;
  encoded: Buffer;
  result: ApplyResult;
}

export interface PutCommit {
  version: string;
  size: number;
  sealedSize: number;
  /** Attributes known only once the body has been read (an ETag), merged over those given before. */
  attributes?: Attributes;
  /** This node stored the blob: its holding is recorded in the same transaction as the record. */
  held?: boolean;
}

export interface FileStat extends NameEntry {
  hlc: Hlc;
  attributes: Attributes;
}

export interface CatalogCounts {
  files: number;
  bytes: number;
  tombstones: number;
  held: { blobs: number; bytes: number };
}

/** A namespace's whole-set summary, as a peer sees it first (see catalog/sync.ts). */
export interface RootInfo {
  ns: string;
  root: Uint8Array;
  /** Newest tombstone clock this node has forgotten: older records it lacks are refused. */
  pruned: number;
}

/**
 * A put in progress: made before the body is read (so a bad key or attribute fails before any
 * byte moves), committed after, with what only the end of the body tells (digest, sizes, an ETag).
 * The clock is taken at commit, so the version orders by when it became whole.
 */
export class PendingPut {
  readonly key: string;
  readonly #catalog: Catalog;
  readonly #attributes: Attributes;
  #done = false;

  constructor(catalog: Catalog, key: string, attributes: Attributes) {
    this.key = key;
    this.#catalog = catalog;
    this.#attributes = { ...attributes };
  }

  /** Adds or replaces an attribute; ERR_BAD_RECORD at once if the map would pass 4 KiB. */
  set(name: string, value: Attributes[string]): void {
    const next = { ...this.#attributes, [name]: value };
    sealAttributes(this.#catalog.vault.key, next);
    this.#attributes[name] = value;
  }

  get attributes(): Readonly<Attributes> {
    return this.#attributes;
  }

  /**
   * Commits the version's record. `alongside` (spreading it to peers) gets the record's bytes
   * once the local transaction has committed; both have finished when this resolves.
   */
  async commit(
    facts: PutCommit,
    alongside?: (encoded: Uint8Array) => Promise<unknown>,
  ): Promise<Committed> {
    if (this.#done) throw new BadRecordError('put already committed');
    this.#done = true;
    const { vault } = this.#catalog;
    const record = makePutRecord(vault, {
      key: this.key,
      version: facts.version,
      size: facts.size,
      sealedSize: facts.sealedSize,
      hlc: this.#catalog.clock.now(),
      attributes: { ...this.#attributes, ...facts.attributes },
    });
    const holding = facts.held
      ? {
          ns: record.ns,
          id: record.id,
          version: facts.version,
          size: facts.size,
          sealedSize: facts.sealedSize,
          at: record.hlc.wall,
        }
      : undefined;
    return this.#catalog.commitOwn(record, this.key, holding, alongside);
  }
}

export class Catalog {
  readonly nodeId: string;
  readonly clock: HybridClock;
  readonly holdings: Holdings;
  /** The last run did not close the catalog (or it is new): reconcile holdings with a walk. */
  readonly needsWalk: boolean;
  readonly #db: CatalogDb;
  readonly #vault: Vault | undefined;
  readonly #store: RecordStore;

  private constructor(options: CatalogOptions) {
    this.nodeId = options.nodeId;
    this.#vault = options.vault;
    this.#db = CatalogDb.open(options.path);
    this.needsWalk = this.#db.needsWalk;
    const last = this.#db.meta.get('clock') as { wall: number; counter: number } | undefined;
    const now = options.now ?? Date.now;
    this.clock = new HybridClock({
      node: options.nodeId,
      now,
      ...(options.maxDriftMs !== undefined ? { maxDriftMs: options.maxDriftMs } : {}),
      ...(last ? { last } : {}),
    });
    this.holdings = new Holdings(this.#db);
    this.#store = new RecordStore({
      db: this.#db,
      vault: options.vault,
      clock: this.clock,
      tombstoneTtlMs: options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS,
      now,
    });
  }

  /** Opens the catalog at `options.path` (created when absent); O(1) in the records it holds. */
  static open(options: CatalogOptions): Catalog {
    return new Catalog(options);
  }

  get storageOnly(): boolean {
    return this.#vault === undefined;
  }

  get vault(): Vault {
    if (!this.#vault) throw new NoVaultKeyError();
    return this.#vault;
  }

  // ------------------------------------------------------------------ writes

  beginPut(key: string, options: { attributes?: Attributes } = {}): PendingPut {
    checkFileKey(key);
    const attributes = options.attributes ?? {};
    sealAttributes(this.vault.key, attributes);
    return new PendingPut(this, key, attributes);
  }

  /** Writes a tombstone for `key` (a delete everywhere): every version older than now is gone. */
  async delete(key: string): Promise<Committed & { existed: boolean }> {
    checkFileKey(key);
    const existed = this.stat(key) !== undefined;
    const record = makeTombstone(this.vault, key, this.clock.now());
    return { ...(await this.commitOwn(record, key)), existed };
  }

  /** Applies a record this node made (PendingPut, delete), with the holding of its blob if given. */
  async commitOwn(
    record: CatalogRecord,
    name: string,
    holding?: Holding,
    alongside?: (encoded: Uint8Array) => Promise<unknown>,
  ): Promise<Committed> {
    const also = holding ? () => this.holdings.addInTransaction(holding) : undefined;
    const encoded = encodeRecord(record);
    const [result] = await this.#store.applyMany([{ record, name }], also);
    // only after the local commit: a put whose own transaction failed must not reach any peer
    await alongside?.(encoded);
    return { record, encoded, result: result as ApplyResult };
  }

  /** Applies a record from a peer (decoded or its wire bytes); never throws for a bad record. */
  async apply(record: CatalogRecord | Uint8Array): Promise<ApplyResult> {
    const [result] = await this.applyMany([record]);
    return result as ApplyResult;
  }

  /** Applies many records in one transaction; one result each, in order. */
  async applyMany(
    items: ReadonlyArray<CatalogRecord | Uint8Array | ApplyInput>,
  ): Promise<ApplyResult[]> {
    const results: Array<ApplyResult | undefined> = [];
    const inputs: ApplyInput[] = [];
    const at: number[] = [];
    for (const item of items) {
      if (!(item instanceof Uint8Array)) {
        at.push(results.length);
        results.push(undefined);
        inputs.push('record' in item ? item : { record: item });
        continue;
      }
      try {
        const record = decodeRecord(item);
        at.push(results.length);
        results.push(undefined);
        inputs.push({ record });
      } catch (err) {
        results.push({ outcome: 'refused', code: errorCode(err) ?? 'ERR_BAD_RECORD' });
      }
    }
    const applied = await this.#store.applyMany(inputs);
    applied.forEach((r, i) => {
      results[at[i] as number] = r;
    });
    return results as ApplyResult[];
  }

  /** Drops tombstones past their TTL; returns how many. */
  prune(): Promise<number> {
    return this.#store.prune();
  }

  // ------------------------------------------------------------------ reads

  /** The winning record of (ns, id), tombstone included: what a get serves, or refuses. */
  get(ns: string, id: string): CatalogRecord | undefined {
    return this.#store.get(ns, id);
  }

  /** A live file of this vault by name, with its clock and attributes; undefined when absent or deleted. */
  stat(key: string): FileStat | undefined {
    checkFileKey(key);
    const vault = this.vault;
    const record = this.#store.get(vault.ns, deriveFileId(vault.key, key));
    if (!record || record.deleted) return undefined;
    return {
      name: key,
      id: record.id,
      version: record.version as string,
      size: record.size,
      sealedSize: record.sealedSize,
      modified: record.hlc.wall,
      hlc: record.hlc,
      attributes: record.attrs ? openAttributes(vault.key, record.attrs) : {},
    };
  }

  /** A page of this vault's names: see ListQuery (prefix, delimiter, after, limit). */
  list(query: ListQuery = {}): ListPage {
    return listNames(this.#db, this.vault.ns, query);
  }

  /** The name-index entry of `key` (without opening the record). */
  entry(key: string): NameEntry | undefined {
    return getName(this.#db, this.vault.ns, key);
  }

  /** Counters kept in the store: O(namespaces), whatever it holds. */
  counts(ns?: string): CatalogCounts {
    const list = ns === undefined ? this.#db.namespaces() : [ns];
    const out = { files: 0, bytes: 0, tombstones: 0 };
    for (const n of list) {
      const s = this.#db.stats(n);
      out.files += s.files;
      out.bytes += s.bytes;
      out.tombstones += s.tombstones;
    }
    return { ...out, held: this.holdings.count(ns) };
  }

  namespaces(): string[] {
    return this.#db.namespaces();
  }

  // ------------------------------------------------------------------ sync

  /** The root summary of every namespace with records. */
  roots(): RootInfo[] {
    return this.namespaces().map((ns) => ({
      ns,
      root: this.#db.sums.get(sumKey(ns, '')) ?? Buffer.alloc(HASH_BYTES + 4),
      pruned: this.#db.pruned(ns),
    }));
  }

  summary(ns: string): SummarySource {
    return storedSummary(this.#db, ns);
  }

  /** The 8-byte summary hash of the record held for (ns, id). */
  hash(ns: string, id: string): Buffer | undefined {
    return this.#store.hash(ns, id);
  }

  /** Wire encodings of the records held for `ids` (those it holds), for a peer's fetch. */
  encoded(ns: string, ids: readonly string[]): Buffer[] {
    const out: Buffer[] = [];
    for (const id of ids) {
      const r = this.#store.get(ns, id);
      if (r) out.push(encodeRecord(r));
    }
    return out;
  }

  // ------------------------------------------------------------------ quarantine

  quarantine(ns: string, id: string, reason: string): Promise<boolean> {
    return this.#store.quarantine(ns, id, reason);
  }

  quarantined(): QuarantinedRecord[] {
    return this.#store.quarantined();
  }

  /** The newest tombstone clock (wall ms) this node has forgotten in `ns`: older unknowns are stale. */
  prunedUpTo(ns: string): number {
    return this.#db.pruned(ns);
  }

  /** Records held back in quarantine: O(1) (LMDB keeps each database's entry count). */
  quarantinedCount(): number {
    return (this.#db.quarantine.getStats() as { entryCount?: number }).entryCount ?? 0;
  }

  /** Whether the record of (ns, id) is held back in quarantine (its blob is then not spread). */
  isQuarantined(ns: string, id: string): boolean {
    return this.#db.quarantine.doesExist(recordKey(ns, id));
  }

  /** An operator confirms a quarantined record: written again with a fresh clock, so it spreads. */
  async release(ns: string, id: string): Promise<Committed | undefined> {
    const held = await this.#store.unquarantine(ns, id);
    if (!held) return undefined;
    const record = { ...held, hlc: this.clock.now() };
    const [result] = await this.#store.applyMany([{ record }]);
    return { record, encoded: encodeRecord(record), result: result as ApplyResult };
  }

  /** An operator drops a quarantined record for good. */
  async drop(ns: string, id: string): Promise<boolean> {
    return (await this.#store.unquarantine(ns, id)) !== undefined;
  }

  /** A reconcile walk starts (`done` false) or has finished: an unfinished one runs again at the next start. */
  async walkMark(done: boolean): Promise<void> {
    await this.#db.transaction(() => {
      if (done) this.#db.meta.removeSync('walk');
      else this.#db.meta.putSync('walk', 'pending');
    });
  }

  /** Keeps the clock, flushes, marks a clean shutdown and closes. */
  async close(): Promise<void> {
    if (this.#db.closed) return;
    await this.#db.transaction(() => this.#db.meta.putSync('clock', this.clock.last));
    await this.#db.close();
  }
}
