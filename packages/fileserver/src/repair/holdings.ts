// What this node holds, indexed for repair: every blob and tombstone (conflicts between them
// settled, old tombstones pruned), split by which peer should also hold each key under the view.

import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { noteTaken, withFileLock } from '../catalog/file-locks.js';
import { BOUNDS } from '../config.js';
import { placeReplicas } from '../placement.js';
import { blobVersion, isTomb, tombstoneVersion } from '../versions.js';
import { outrankedTombstone, supersedes } from './catalog-order.js';
import { type RepairComponents, upsert } from './components.js';
import { type Entry, SortedEntries } from './summary.js';

const SCAN_SLICE = 10_000;

export interface Held extends Entry {
  ns: string;
}

/** One view's holdings sorted for summaries, split by which peers share each key. */
export interface PairIndex {
  gen: number;
  view: string;
  members: string[];
  /** peer → ns → the keys this node and that peer should both hold. */
  pairs: Map<string, Map<string, SortedEntries>>;
  /** Keys held here whose placement does not include this node. */
  surplus: { e: Held; placement: string[] }[];
  /** ns → id → entry (everything held). */
  byId: Map<string, Map<string, Held>>;
  keysHeld: number;
}

/** The id of a placement view: SHA-256 of the sorted member ids. */
export function viewOf(members: readonly string[]): string {
  return createHash('sha256')
    .update([...members].sort().join('\n'))
    .digest('hex');
}

export class Holdings {
  readonly #c: RepairComponents;
  #index: (PairIndex & { builtAt: number }) | undefined;
  #building: Promise<PairIndex> | undefined;

  constructor(components: RepairComponents) {
    this.#c = components;
  }

  /** Keys held at the last build (0 before the first). */
  get keysHeld(): number {
    return this.#index?.keysHeld ?? 0;
  }

  /** Keys held now, when no local write or delete came after the last build; else unknown. */
  keysHeldNow(): number | undefined {
    const i = this.#index;
    return i && i.gen === this.#c.inventory.generation ? i.keysHeld : undefined;
  }

  /** This node and its connected peers, sorted: what keys are placed over. */
  members(): string[] {
    return [...new Set([this.#c.nodeId, ...this.#c.peerIds()])].sort();
  }

  /**
   * The index for the current view, rebuilt when stale: after any local change when `fresh`
   * (a round of this node's own), else only when older than a second (answering peers).
   */
  async index(fresh: boolean): Promise<PairIndex> {
    const members = this.members();
    const view = viewOf(members);
    const gen = this.#c.inventory.generation;
    const cur = this.#index;
    if (
      cur &&
      cur.view === view &&
      (cur.gen === gen || (!fresh && performance.now() - cur.builtAt < BOUNDS.repairIndexMaxAgeMs))
    ) {
      return cur;
    }
    if (!this.#building) {
      this.#building = this.#build(members, view).finally(() => {
        this.#building = undefined;
      });
    }
    const built = await this.#building;
    if (built.view !== view) return this.index(fresh);
    return built;
  }

  /**
   * Everything held here, with blob-vs-tombstone conflicts settled and old tombstones pruned: the
   * blobs from the catalog's holdings index (no walk of the blob store), the blob tombstones kept.
   */
  async #scan(): Promise<Map<string, Map<string, Held>>> {
    const { catalog, tombstones } = this.#c;
    await tombstones.prune(this.#c.config.repair.tombstoneTtlMs);
    const out = new Map<string, Map<string, Held>>();
    let n = 0;
    for (const ns of catalog.namespaces()) {
      const m = new Map<string, Held>();
      for (const h of catalog.holdings.entries(ns)) {
        m.set(h.id, { ns, id: h.id, v: h.version, at: h.at });
        // a big index is read in slices, so peers' messages are served meanwhile
        if (++n % SCAN_SLICE === 0) await setImmediate();
      }
      if (m.size > 0) out.set(ns, m);
    }
    for (const t of [...tombstones.all()]) {
      const m = upsert(out, t.ns, () => new Map());
      const tomb: Held = { ns: t.ns, ...tombstoneVersion(t.id, t.deletedAt) };
      // under the file's lock, the blob read again: a put committing its record, or a copy
      // landing since the index was read, is seen rather than deleted
      const kept = await withFileLock(catalog, t.ns, t.id, async () => {
        const meta = await this.#c.cas.stat(t.ns, t.id).catch(() => undefined);
        const blob = meta ? blobVersion(meta) : undefined;
        if (
          (blob && supersedes(catalog, t.ns, blob, tomb)) ||
          outrankedTombstone(catalog, t.ns, t.id, t.deletedAt)
        ) {
          // the blob is the newer version, or the catalog names a version written after the
          // delete: the tombstone no longer stands
          await tombstones.remove(t.ns, t.id, t.deletedAt);
          if (blob) m.set(t.id, { ns: t.ns, id: t.id, v: blob.v, at: blob.at });
          return true;
        }
        if (meta) {
          const ifMatch = { digest: meta.digest, createdAt: meta.createdAt };
          if (await this.#c.cas.delete(t.ns, t.id, { ifMatch })) {
            noteTaken(catalog, t.ns, t.id, meta.digest);
          }
          this.#c.inventory.changed();
        }
        return false;
      });
      if (!kept) m.set(t.id, tomb);
    }
    return out;
  }

  async #build(members: string[], view: string): Promise<PairIndex> {
    const gen = this.#c.inventory.generation;
    const byId = await this.#scan();
    const me = this.#c.nodeId;
    const r = this.#c.config.replication;
    const lists = new Map<string, Map<string, Entry[]>>();
    const surplus: PairIndex['surplus'] = [];
    let keysHeld = 0;
    for (const [ns, m] of byId) {
      for (const e of m.values()) {
        if (!isTomb(e)) keysHeld++;
        // R = 0 asks for no replicas: each copy stays where it was written, untouched by repair
        if (r < 1) continue;
        const placement = placeReplicas(e.id, members, r);
        if (!placement.includes(me)) {
          surplus.push({ e, placement });
          continue;
        }
        for (const p of placement) {
          if (p === me) continue;
          const per = upsert(lists, p, () => new Map());
          const l = upsert(per, ns, () => []);
          l.push(e);
        }
      }
    }
    const pairs = new Map<string, Map<string, SortedEntries>>();
    for (const [p, per] of lists) {
      const sorted = new Map<string, SortedEntries>();
      for (const [ns, l] of per) sorted.set(ns, new SortedEntries(l));
      pairs.set(p, sorted);
    }
    const index = { gen, view, members, pairs, surplus, byId, keysHeld };
    this.#index = { ...index, builtAt: performance.now() };
    return index;
  }
}
