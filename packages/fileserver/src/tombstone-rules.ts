// What a tombstone does: a delete everywhere records one and tells every peer; one learnt from a
// peer removes an older local copy; a replica or a listed version older than one is not the file.

import type { CasStore } from '@peerstash/cas-store';
import type { Catalog } from './catalog/catalog.js';
import { noteTaken, withFileLock } from './catalog/file-locks.js';
import { errorCode } from './errors.js';
import type { Inventory } from './inventory.js';
import type { Logger } from './logger.js';
import type { ListLine, StoreOffer } from './messages.js';
import type { PeerRpc } from './net/peer-rpc.js';
import { liveSince, outrankedTombstone } from './repair/catalog-order.js';
import type { TombstoneMessage } from './repair/messages.js';
import type { Tombstone, TombstoneStore } from './tombstones.js';
import { blobTime, blobVersion, newer, tombstoneVersion } from './versions.js';

export interface TombstoneComponents {
  nodeId: string;
  tombstones: TombstoneStore;
  cas: CasStore;
  catalog: Catalog;
  inventory: Inventory;
  rpc: PeerRpc;
  peerIds(): string[];
  log: Logger;
}

/** A delete everywhere taken here (at `deletedAt`): keep a tombstone and tell every peer. */
export async function recordDelete(
  c: TombstoneComponents,
  ns: string,
  id: string,
  deletedAt = Date.now(),
): Promise<void> {
  const t: Tombstone = { ns, id, deletedAt, origin: c.nodeId };
  // a version written after the delete is already the file here: no tombstone to keep for it
  // (peers still get the message; each weighs it against its own catalog)
  if (!outrankedTombstone(c.catalog, ns, id, deletedAt)) await c.tombstones.put(t);
  c.inventory.changed();
  const msg: TombstoneMessage = { type: 'tombstone', ...t };
  await Promise.all(c.peerIds().map((p) => c.rpc.send(p, msg).catch(() => {})));
}

/**
 * Whether the local catalog names this blob's version current: then no blob rule takes it. The
 * catalog orders versions by their record's clock (taken at commit), the blob rules by the put's
 * start (`putAt`): a put that began before a delete and committed after it is older by the one and
 * the winner by the other, and the catalog, which lists it, decides.
 */
function catalogKeeps(
  catalog: Catalog,
  ns: string,
  id: string,
  digest: string,
  deletedAt: number,
): boolean {
  // a record older than the delete is a catalog that has not heard of it yet: not a reason
  return liveSince(catalog, ns, id, deletedAt)?.version === digest;
}

/**
 * Applies a tombstone learnt from a peer (or a repair reply): kept unless the local blob is
 * newer (or the version the catalog names current), and the local blob goes if older. `from`:
 * the deleting node (this one when undefined).
 */
export async function applyTombstone(
  c: Omit<TombstoneComponents, 'rpc' | 'peerIds'>,
  ns: string,
  id: string,
  deletedAt: number,
  from: string | undefined,
): Promise<void> {
  await withFileLock(c.catalog, ns, id, async () => {
    const meta = await c.cas.stat(ns, id).catch(() => undefined);
    if (meta && newer(blobVersion(meta), tombstoneVersion(id, deletedAt))) return;
    if (meta && catalogKeeps(c.catalog, ns, id, meta.digest, deletedAt)) return;
    // the catalog names a version written after the delete (its copy is elsewhere for now)
    if (outrankedTombstone(c.catalog, ns, id, deletedAt)) return;
    const kept = await c.tombstones.put({ ns, id, deletedAt, origin: from ?? c.nodeId });
    if (meta) {
      noteTaken(c.catalog, ns, id, meta.digest);
      await deleteLocal(c, ns, id);
      c.log.debug({ id, deletedAt }, 'blob removed by a tombstone');
    } else if (kept) c.inventory.changed();
  });
}

/**
 * Deletes the local blob unless it is another version written after `deletedAt` (one that arrived
 * while the delete went round). `version` is the sealed digest the deleting node knew: that one
 * goes whatever the clocks say (a writer whose clock runs ahead). Checked and removed under the
 * key's lock, so a version landing in between is not taken with it.
 */
export async function deleteOlder(
  c: Pick<TombstoneComponents, 'cas' | 'inventory' | 'catalog'>,
  ns: string,
  id: string,
  deletedAt: number,
  version?: string,
): Promise<{ deleted: boolean; kept: boolean }> {
  return withFileLock(c.catalog, ns, id, async () => {
    try {
      // a version that replaced the one looked at is looked at in turn (a few times at most)
      for (let tries = 0; tries < 3; tries++) {
        const meta = await statOrAbsent(c.cas, ns, id);
        if (!meta) return { deleted: false, kept: false };
        if (meta.digest !== version) {
          const later = newer(blobVersion(meta), tombstoneVersion(id, deletedAt));
          if (later || catalogKeeps(c.catalog, ns, id, meta.digest, deletedAt)) {
            return { deleted: false, kept: true };
          }
        }
        const ifMatch = { digest: meta.digest, createdAt: meta.createdAt };
        if (await c.cas.delete(ns, id, { ifMatch })) {
          noteTaken(c.catalog, ns, id, meta.digest);
          return { deleted: true, kept: false };
        }
      }
      return { deleted: false, kept: true };
    } finally {
      c.inventory.changed();
    }
  });
}

/** The blob's metadata, or undefined when there is none; any other failure is thrown. */
async function statOrAbsent(cas: CasStore, ns: string, id: string) {
  try {
    return await cas.stat(ns, id);
  } catch (err) {
    if (errorCode(err) === 'ERR_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Deletes a local blob and marks the inventory changed either way. */
export async function deleteLocal(
  c: Pick<TombstoneComponents, 'cas' | 'inventory'>,
  ns: string,
  id: string,
): Promise<void> {
  try {
    await c.cas.delete(ns, id);
  } finally {
    c.inventory.changed();
  }
}

/** Whether a replica offered for (ns, id) predates a tombstone here (then it is refused). */
export function refusesOffer(tombstones: TombstoneStore, offer: StoreOffer): boolean {
  const t = tombstones.get(offer.ns, offer.id);
  if (!t) return false;
  const p = offer.extra.putAt;
  const at = typeof p === 'number' ? p : Date.now();
  return t.deletedAt >= at;
}

/** Whether a listed version was deleted everywhere after it was written (a returning peer's). */
export function deletedAfter(tombstones: TombstoneStore, ns: string, line: ListLine): boolean {
  const tomb = tombstones.get(ns, line.id);
  return !!tomb && tomb.deletedAt >= blobTime(line.extra, line.createdAt);
}
