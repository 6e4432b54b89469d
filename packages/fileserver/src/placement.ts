// Rendezvous (highest-random-weight) placement: every node ranks the same ids the same way
// for a file, with no coordination, and adding one node moves only ~1/N of the files.

import { createHash } from 'node:crypto';

/** Weight of one node for one file: the first 8 bytes of SHA-256(nodeId NUL fileId). */
export function rendezvousWeight(nodeId: string, fileId: string): bigint {
  const digest = createHash('sha256').update(nodeId).update('\0').update(fileId).digest();
  return digest.readBigUInt64BE(0);
}

/** All `nodeIds` ordered by weight for `fileId`, heaviest first (ties broken by id). */
export function rankNodes(fileId: string, nodeIds: Iterable<string>): string[] {
  const weighted = [...new Set(nodeIds)].map((id) => ({ id, w: rendezvousWeight(id, fileId) }));
  weighted.sort((a, b) => (a.w === b.w ? (a.id < b.id ? -1 : 1) : a.w > b.w ? -1 : 1));
  return weighted.map((x) => x.id);
}

/** The `r` nodes that hold replicas of `fileId` (all of them when there are fewer than `r`). */
export function placeReplicas(fileId: string, nodeIds: Iterable<string>, r: number): string[] {
  return rankNodes(fileId, nodeIds).slice(0, Math.max(0, r));
}
