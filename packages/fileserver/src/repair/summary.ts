// Compact set summaries for anti-entropy: two nodes find where their holdings differ by trading
// 256-bucket XOR hashes per level of the id's hex prefix, listing entries only in small ranges.

import {
  isTomb,
  shortHash,
  tombVersion,
  VERSION_HASH_BYTES,
  type Version,
  versionHash,
} from '../versions.js';

/** One thing a node holds for a file id (the ordering of versions lives in versions.ts). */
export type Entry = Version;

export const FANOUT = 256;
const HASH_BYTES = VERSION_HASH_BYTES;
/** A range this small is listed rather than summarized (a list of 64 costs about one summary). */
export const LIST_MAX = 64;
/** Prefixes asked about in one request, so a reply stays well under the 1 MiB message limit. */
export const MAX_PREFIXES = 32;

/**
 * Bytes per listed entry: the first 8 bytes of the id, 8 of SHA-256(id|version), the time as a
 * 48-bit ms count and a tombstone flag. The asker holds the full ids of what it may push, so this
 * is all it needs (a full [id, version, at] would be ~140 bytes).
 */
export const LIST_RECORD = 23;

/** One range of a reply: equal to the asker's, a bucket summary or, when small, a compact list. */
export type Part =
  | { prefix: string; count: number; same: true }
  | { prefix: string; count: number; hashes: Uint8Array; counts: Uint8Array }
  | { prefix: string; count: number; list: Uint8Array };

/** Entries sorted by id, with the range under a hex prefix found by binary search. */
export class SortedEntries {
  readonly entries: readonly Entry[];
  #root: Uint8Array | undefined;

  constructor(entries: Iterable<Entry>) {
    const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.entries = sorted;
  }

  get size(): number {
    return this.entries.length;
  }

  /** rootOf(entries), computed once: an index is built once per change and compared every round. */
  get root(): Uint8Array {
    this.#root ??= rootOf(this.entries);
    return this.#root;
  }

  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.id < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entries whose id starts with `prefix` (a slice of the sorted array). */
  under(prefix: string): readonly Entry[] {
    if (prefix === '') return this.entries;
    const start = this.#lowerBound(prefix);
    // the first id past the prefix range: prefix followed by 'g' sorts after every hex digit
    const end = this.#lowerBound(`${prefix}g`);
    return this.entries.slice(start, end);
  }
}

const entryHash = versionHash;

/** FANOUT buckets (by the hex byte after `prefix`) of XOR-ed truncated hashes, plus counts. */
export function summarize(
  range: readonly Entry[],
  prefix: string,
): { hashes: Uint8Array; counts: Uint8Array } {
  const hashes = Buffer.alloc(FANOUT * HASH_BYTES);
  const counts = Buffer.alloc(FANOUT * 4);
  for (const e of range) {
    const b = Number.parseInt(e.id.slice(prefix.length, prefix.length + 2), 16);
    const h = entryHash(e);
    for (let i = 0; i < HASH_BYTES; i++) hashes[b * HASH_BYTES + i]! ^= h[i]!;
    counts.writeUInt32BE(counts.readUInt32BE(b * 4) + 1, b * 4);
  }
  return { hashes, counts };
}

/** The whole set in 12 bytes (XOR of the entry hashes, then the count): equal sets, equal roots. */
export function rootOf(range: readonly Entry[]): Uint8Array {
  const out = Buffer.alloc(HASH_BYTES + 4);
  for (const e of range) {
    const h = entryHash(e);
    for (let i = 0; i < HASH_BYTES; i++) out[i]! ^= h[i]!;
  }
  out.writeUInt32BE(range.length, HASH_BYTES);
  return out;
}

/**
 * The responder's side: a part per asked prefix, listed when small, summarized otherwise. With
 * the asker's `root` (first request only) a set in sync costs one short reply.
 */
export function answer(set: SortedEntries, prefixes: readonly string[], root?: Uint8Array): Part[] {
  if (root && prefixes.length === 1 && prefixes[0] === '') {
    if (Buffer.from(set.root).equals(root)) {
      return [{ prefix: '', count: set.size, same: true }];
    }
  }
  return prefixes.map((prefix) => {
    const range = set.under(prefix);
    if (range.length <= LIST_MAX || prefix.length >= 62) {
      const list = Buffer.alloc(range.length * LIST_RECORD);
      range.forEach((e, i) => {
        const o = i * LIST_RECORD;
        list.write(e.id.slice(0, 16), o, 'hex');
        entryHash(e).copy(list, o + 8, 0, HASH_BYTES);
        list.writeUIntBE(Math.min(e.at, 2 ** 48 - 1), o + 16, 6);
        list[o + 22] = isTomb(e) ? 1 : 0;
      });
      return { prefix, count: range.length, list };
    }
    return { prefix, count: range.length, ...summarize(range, prefix) };
  });
}

function countAt(counts: Uint8Array, b: number): number {
  const i = b * 4;
  return (
    ((counts[i]! << 24) | (counts[i + 1]! << 16) | (counts[i + 2]! << 8) | counts[i + 3]!) >>> 0
  );
}

function sameBucket(a: Uint8Array, b: Uint8Array, ac: Uint8Array, bc: Uint8Array, i: number) {
  for (let j = 0; j < 4; j++) if (ac[i * 4 + j] !== bc[i * 4 + j]) return false;
  for (let j = 0; j < HASH_BYTES; j++) {
    if (a[i * HASH_BYTES + j] !== b[i * HASH_BYTES + j]) return false;
  }
  return true;
}

/** A key on which the two sides differ: what each holds (absent when it holds nothing). */
export interface Diff {
  id: string;
  mine?: Entry;
  theirs?: Entry;
}

/**
 * The requester's side: walks down from the whole id space, asking `ask` only about ranges whose
 * summaries differ and where this side holds something (the other side pushes what only it has),
 * and returns every key on which the two differ within those ranges.
 */
export async function reconcile(
  local: SortedEntries,
  ask: (prefixes: string[], root?: Uint8Array) => Promise<Part[]>,
): Promise<Diff[]> {
  const diffs: Diff[] = [];
  const queue = [''];
  let first = true;
  while (queue.length > 0) {
    const batch = queue.splice(0, MAX_PREFIXES);
    const parts = await ask(batch, first ? local.root : undefined);
    first = false;
    for (const part of parts) {
      if ('same' in part) continue;
      const mine = local.under(part.prefix);
      if ('list' in part) {
        diffs.push(...diffLists(mine, part.list));
        continue;
      }
      const own = summarize(mine, part.prefix);
      for (let b = 0; b < FANOUT; b++) {
        if (countAt(own.counts, b) === 0) continue;
        if (sameBucket(own.hashes, part.hashes, own.counts, part.counts, b)) continue;
        queue.push(part.prefix + b.toString(16).padStart(2, '0'));
      }
    }
  }
  return diffs;
}

/**
 * Keys of `mine` the other side lacks or holds another version of. Keys only the other side holds
 * are left out: a compact list does not carry whole ids, and they are that side's to push.
 */
function diffLists(mine: readonly Entry[], list: Uint8Array): Diff[] {
  const buf = Buffer.from(list.buffer, list.byteOffset, list.byteLength);
  const theirs = new Map<string, { h: string; at: number; tomb: boolean }>();
  for (let o = 0; o + LIST_RECORD <= buf.length; o += LIST_RECORD) {
    theirs.set(buf.toString('hex', o, o + 8), {
      h: buf.toString('hex', o + 8, o + 16),
      at: buf.readUIntBE(o + 16, 6),
      tomb: buf[o + 22] === 1,
    });
  }
  const out: Diff[] = [];
  for (const e of mine) {
    const t = theirs.get(e.id.slice(0, 16));
    if (!t) out.push({ id: e.id, mine: e });
    else if (t.h !== shortHash(e)) {
      const v = t.tomb ? tombVersion(t.at) : '';
      out.push({ id: e.id, mine: e, theirs: { id: e.id, v, at: t.at, h: t.h } });
    }
  }
  return out;
}
