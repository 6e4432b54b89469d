// The blob side follows the catalog: of two versions of a file, the one its record names wins
// (whatever their put times say), and a blob the catalog does not name current is not spread.

import type { Catalog } from '../catalog/catalog.js';
import { isTomb, newer, VERSION_HASH_BYTES, type Version, versionHash } from '../versions.js';

/**
 * current: the catalog's record names this blob. stale: it names another version, a tombstone,
 * or holds the record back in quarantine (a node back after the TTL). unknown: no record (a put
 * not yet committed, or a tombstone entry, which the blob-side rules order).
 */
export type Standing = 'current' | 'stale' | 'unknown';

/** Whether an entry (full version or, from a compact list, its short hash) is `version`. */
function isVersion(e: Version, version: string): boolean {
  if (e.v) return e.v === version;
  const h = versionHash({ id: e.id, v: version }).subarray(0, VERSION_HASH_BYTES).toString('hex');
  return e.h === h;
}

export function standing(catalog: Catalog, ns: string, e: Version): Standing {
  if (isTomb(e)) return 'unknown';
  if (catalog.isQuarantined(ns, e.id)) return 'stale';
  const r = catalog.get(ns, e.id);
  if (!r) return 'unknown';
  if (r.deleted) return 'stale';
  return isVersion(e, r.version as string) ? 'current' : 'stale';
}

/**
 * Whether `a` supersedes `b` for repair: when the catalog names one of the two versions current,
 * that one (so concurrent puts settle on the record's winner, not on the writers' clocks, and a
 * put that began before a delete and committed after it beats the blob tombstone, which dates it
 * by its start); else the blob-side order of versions.ts (tombstones, files without a record).
 */
export function supersedes(catalog: Catalog, ns: string, a: Version, b: Version): boolean {
  // against a tombstone, only a record at least as recent speaks (an older one is a catalog that
  // has not heard of the delete yet)
  const tomb = isTomb(a) ? a : isTomb(b) ? b : undefined;
  const r = tomb ? liveSince(catalog, ns, a.id, tomb.at) : liveSince(catalog, ns, a.id, 0);
  if (r && !catalog.isQuarantined(ns, a.id)) {
    const ma = !isTomb(a) && isVersion(a, r.version as string);
    const mb = !isTomb(b) && isVersion(b, r.version as string);
    if (ma !== mb) return ma;
  }
  return newer(a, b);
}

/** The file's live record when it was written at or after `since` (ms, its clock's wall). */
export function liveSince(catalog: Catalog, ns: string, id: string, since: number) {
  const r = catalog.get(ns, id);
  return r && !r.deleted && r.hlc.wall >= since ? r : undefined;
}

/** Whether the catalog has a live record written at or after `deletedAt` (it outranks the tombstone). */
export function outrankedTombstone(
  catalog: Catalog,
  ns: string,
  id: string,
  deletedAt: number,
): boolean {
  return liveSince(catalog, ns, id, deletedAt) !== undefined;
}
