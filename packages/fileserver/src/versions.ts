// How versions of a file are ordered across the cluster: a sealed blob or a tombstone, each with
// a time; every unit that compares two versions (repair, list, tombstones) asks this module.

import { createHash } from 'node:crypto';
import type { BlobMeta } from '@peerstash/cas-store';

/** One thing a node holds for a file id: a sealed blob or a tombstone. */
export interface Version {
  /** 64 lowercase hex (the file id). */
  id: string;
  /** The sealed blob's SHA-256, or `tomb:<deletedAtMs>` for a tombstone. */
  v: string;
  /** When this version was made: the blob's put time or the tombstone's deletedAt (ms). */
  at: number;
  /** Hex of the truncated SHA-256(id|v), when only that is known (an entry from a compact list). */
  h?: string;
}

/** Bytes of SHA-256(id|v) kept for tie-breaks and summaries. */
export const VERSION_HASH_BYTES = 8;

export function isTomb(e: Pick<Version, 'v'>): boolean {
  return e.v.startsWith('tomb:');
}

export function tombVersion(deletedAt: number): string {
  return `tomb:${deletedAt}`;
}

/** SHA-256(id|v): what summaries XOR and what breaks a tie between versions of the same ms. */
export function versionHash(e: Pick<Version, 'id' | 'v'>): Buffer {
  return createHash('sha256').update(e.id).update('|').update(e.v).digest();
}

/** Hex of the truncated version hash (the one carried, or computed). */
export function shortHash(e: Version): string {
  return e.h ?? versionHash(e).subarray(0, VERSION_HASH_BYTES).toString('hex');
}

/** Whether `a` supersedes `b`: later wins; at the same ms a tombstone beats a blob. */
export function newer(a: Version, b: Version): boolean {
  if (a.at !== b.at) return a.at > b.at;
  const ta = isTomb(a);
  if (ta !== isTomb(b)) return ta;
  return shortHash(a) > shortHash(b);
}

/** A blob's time: the writer's put time (`extra.putAt`) when it is a sane one, else its commit time. */
export function blobTime(extra: Record<string, unknown> | undefined, createdAt: number): number {
  const p = extra?.putAt;
  return typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 ? p : createdAt;
}

/** The version a stored blob is. */
export function blobVersion(meta: BlobMeta): Version {
  return { id: meta.key, v: meta.digest, at: blobTime(meta.extra, meta.createdAt) };
}

/** The version a tombstone is. */
export function tombstoneVersion(id: string, deletedAt: number): Version {
  return { id, v: tombVersion(deletedAt), at: deletedAt };
}
