// Sync summaries over catalog records, kept incrementally: every record write XORs its hash into
// the sums of its id's prefixes of 0, 1 and 2 bytes, so an idle comparison costs one 12-byte root.

import type { Part } from '../repair/summary.js';
import { FANOUT, LIST_MAX, MAX_PREFIXES } from '../repair/summary.js';
import type { CatalogDb } from './catalog-db.js';

export type { Part };
/** Prefix lengths (bytes of the id) whose sums are stored: the root, then 256, then 65,536. */
export const SUM_DEPTH = 2;
export const HASH_BYTES = 8;
/** A listed record in a reply part: the full id (32) and its hash (8). */
export const LIST_ENTRY = 40;

/** ns (32) | depth (1) | the first `depth` bytes of the id. */
export function sumKey(ns: string, prefix: string): Buffer {
  return Buffer.concat([
    Buffer.from(ns, 'hex'),
    Buffer.of(prefix.length / 2),
    Buffer.from(prefix, 'hex'),
  ]);
}

/** Sum changes of one transaction, merged per key and written once at its end. */
export class SumDeltas {
  readonly #pending = new Map<string, { ns: string; prefix: string; xor: Buffer; count: number }>();

  /** Counts a record hash in (sign 1) or out (sign −1) of the sums of `id`'s prefixes. */
  add(ns: string, id: string, hash: Uint8Array, sign: 1 | -1): void {
    for (let depth = 0; depth <= SUM_DEPTH; depth++) {
      const prefix = id.slice(0, 2 * depth);
      const k = ns + prefix;
      let e = this.#pending.get(k);
      if (!e) {
        e = { ns, prefix, xor: Buffer.alloc(HASH_BYTES), count: 0 };
        this.#pending.set(k, e);
      }
      for (let i = 0; i < HASH_BYTES; i++) e.xor[i]! ^= hash[i]!;
      e.count += sign;
    }
  }

  /** Writes the merged changes; call inside the write transaction that made them. */
  flush(db: CatalogDb): void {
    for (const e of this.#pending.values()) {
      const key = sumKey(e.ns, e.prefix);
      const cur = db.sums.get(key);
      const value = Buffer.alloc(HASH_BYTES + 4);
      if (cur) cur.copy(value, 0, 0, HASH_BYTES);
      for (let i = 0; i < HASH_BYTES; i++) value[i]! ^= e.xor[i]!;
      const count = (cur ? cur.readUInt32BE(HASH_BYTES) : 0) + e.count;
      if (count <= 0) db.sums.removeSync(key);
      else {
        value.writeUInt32BE(count, HASH_BYTES);
        db.sums.putSync(key, value);
      }
    }
    this.#pending.clear();
  }
}

/** One side's records as the comparison sees them. */
export interface SummarySource {
  /** XOR of every record hash (8) | count (4): equal sets, equal roots. */
  root(): Uint8Array;
  /** Records whose id starts with `prefix` (hex). */
  count(prefix: string): number;
  /** 256 buckets by the next id byte: XOR hashes (8 each) and counts (4 each, big-endian). */
  buckets(prefix: string): { hashes: Uint8Array; counts: Uint8Array };
  /** Ids and hashes under `prefix`, in id order, lazily. */
  entries(prefix: string): Iterable<{ id: string; hash: Uint8Array }>;
}

/** The summary source of one namespace of a catalog store, read from its stored sums. */
export function storedSummary(db: CatalogDb, ns: string): SummarySource {
  const nsBytes = Buffer.from(ns, 'hex');
  const range = (prefix: string) => {
    const p = Buffer.from(prefix, 'hex');
    return {
      start: Buffer.concat([nsBytes, p]),
      end: Buffer.concat([nsBytes, p, Buffer.alloc(33 - p.length, 0xff)]),
    };
  };
  function* entries(prefix: string) {
    for (const { key, value } of db.records.getRange(range(prefix))) {
      yield { id: key.toString('hex', 32, 64), hash: value.subarray(0, HASH_BYTES) };
    }
  }
  return {
    root() {
      return db.sums.get(sumKey(ns, '')) ?? Buffer.alloc(HASH_BYTES + 4);
    },
    count(prefix) {
      if (prefix.length / 2 <= SUM_DEPTH) {
        return db.sums.get(sumKey(ns, prefix))?.readUInt32BE(HASH_BYTES) ?? 0;
      }
      return db.records.getKeysCount(range(prefix));
    },
    buckets(prefix) {
      const hashes = Buffer.alloc(FANOUT * HASH_BYTES);
      const counts = Buffer.alloc(FANOUT * 4);
      const depth = prefix.length / 2;
      if (depth < SUM_DEPTH) {
        const start = sumKey(ns, `${prefix}00`);
        const end = Buffer.concat([sumKey(ns, prefix), Buffer.alloc(2, 0xff)]);
        end[32] = depth + 1;
        for (const { key, value } of db.sums.getRange({ start, end })) {
          const b = key[33 + depth]!;
          value.copy(hashes, b * HASH_BYTES, 0, HASH_BYTES);
          value.copy(counts, b * 4, HASH_BYTES, HASH_BYTES + 4);
        }
        return { hashes, counts };
      }
      // below the stored sums (more than LIST_MAX records under a 2-byte prefix: > 4M records)
      for (const e of entries(prefix)) {
        const b = Number.parseInt(e.id.slice(prefix.length, prefix.length + 2), 16);
        for (let i = 0; i < HASH_BYTES; i++) hashes[b * HASH_BYTES + i]! ^= e.hash[i]!;
        counts.writeUInt32BE(counts.readUInt32BE(b * 4) + 1, b * 4);
      }
      return { hashes, counts };
    },
    entries,
  };
}

function listPart(source: SummarySource, prefix: string, count: number): Part {
  const list = Buffer.alloc(count * LIST_ENTRY);
  let n = 0;
  for (const e of source.entries(prefix)) {
    if (n === count) break; // a write landed meanwhile: the next round sees it
    list.write(e.id, n * LIST_ENTRY, 'hex');
    list.set(e.hash, n * LIST_ENTRY + 32);
    n++;
  }
  return { prefix, count: n, list: list.subarray(0, n * LIST_ENTRY) };
}

/**
 * The responder's side: for each prefix a list (when small) or 256 bucket sums. With the asker's
 * `root` (its first request), a set in sync costs one short reply.
 */
export function answerSummary(
  source: SummarySource,
  prefixes: readonly string[],
  root?: Uint8Array,
): Part[] {
  if (root && prefixes.length === 1 && prefixes[0] === '') {
    const mine = source.root();
    if (Buffer.from(mine).equals(Buffer.from(root))) {
      return [{ prefix: '', count: Buffer.from(mine).readUInt32BE(HASH_BYTES), same: true }];
    }
  }
  return prefixes.map((prefix) => {
    const count = source.count(prefix);
    if (count <= LIST_MAX || prefix.length >= 62) return listPart(source, prefix, count);
    return { prefix, count, ...source.buckets(prefix) };
  });
}

/** What a comparison found, in batches: ids only the other side holds, only we hold, or both differently. */
export type SummaryDiff =
  | { theirs: string[] }
  | { mine: string[] }
  | { differ: Array<{ id: string; hash: Buffer }> };

const BATCH = 64;

function* batches<T>(items: Iterable<T>): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function* idsOf(source: SummarySource, prefix: string): Generator<string> {
  for (const e of source.entries(prefix)) yield e.id;
}

function* compareList(
  source: SummarySource,
  part: Part & { list: Uint8Array },
): Generator<SummaryDiff> {
  const buf = Buffer.from(part.list.buffer, part.list.byteOffset, part.list.byteLength);
  const theirs = new Map<string, Buffer>();
  for (let o = 0; o + LIST_ENTRY <= buf.length; o += LIST_ENTRY) {
    theirs.set(buf.toString('hex', o, o + 32), buf.subarray(o + 32, o + LIST_ENTRY));
  }
  const mineOnly: string[] = [];
  const differ: Array<{ id: string; hash: Buffer }> = [];
  for (const e of source.entries(part.prefix)) {
    const h = theirs.get(e.id);
    if (!h) mineOnly.push(e.id);
    else if (!h.equals(e.hash)) differ.push({ id: e.id, hash: h });
    theirs.delete(e.id);
    if (mineOnly.length === BATCH) yield { mine: mineOnly.splice(0) };
    if (differ.length === BATCH) yield { differ: differ.splice(0) };
  }
  if (mineOnly.length > 0) yield { mine: mineOnly };
  if (differ.length > 0) yield { differ };
  for (const batch of batches(theirs.keys())) yield { theirs: batch };
}

function sameBucket(
  a: Uint8Array,
  b: Uint8Array,
  ac: Uint8Array,
  bc: Uint8Array,
  i: number,
): boolean {
  for (let j = 0; j < 4; j++) if (ac[i * 4 + j] !== bc[i * 4 + j]) return false;
  for (let j = 0; j < HASH_BYTES; j++)
    if (a[i * HASH_BYTES + j] !== b[i * HASH_BYTES + j]) return false;
  return true;
}

const countAt = (counts: Uint8Array, b: number) =>
  Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength).readUInt32BE(b * 4);

/**
 * The asker's side: walks down from the whole id space into the buckets whose sums differ, asking
 * `ask` (one message each, ≤ MAX_PREFIXES prefixes) only where the other side holds something,
 * and yields the differences in batches of ≤ 64 ids. Messages grow with the differences, not the set.
 */
export async function* compareSummaries(
  local: SummarySource,
  ask: (prefixes: string[], root?: Uint8Array) => Promise<Part[]>,
): AsyncGenerator<SummaryDiff> {
  const queue = [''];
  let first = true;
  while (queue.length > 0) {
    const batch = queue.splice(0, MAX_PREFIXES);
    const parts = await ask(batch, first ? local.root() : undefined);
    first = false;
    for (const part of parts) {
      if ('same' in part) continue;
      if ('list' in part) {
        yield* compareList(local, part);
        continue;
      }
      const own = local.buckets(part.prefix);
      for (let b = 0; b < FANOUT; b++) {
        const mine = countAt(own.counts, b);
        const theirs = countAt(part.counts, b);
        if (mine === 0 && theirs === 0) continue;
        if (sameBucket(own.hashes, part.hashes, own.counts, part.counts, b)) continue;
        const prefix = part.prefix + b.toString(16).padStart(2, '0');
        // nothing there on their side: all of ours is missing, no need to ask
        if (theirs === 0) for (const ids of batches(idsOf(local, prefix))) yield { mine: ids };
        else queue.push(prefix);
      }
    }
  }
}
