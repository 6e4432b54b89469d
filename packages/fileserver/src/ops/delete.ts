// Deleting a file: the local copy, and with `everywhere` every connected peer's replica too and a
// tombstone that keeps it deleted on nodes that were down.

import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import { errorCode } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import { deleteOlder, recordDelete, type TombstoneComponents } from '../tombstone-rules.js';
import { fileOf, type Vault } from '../vault.js';
import { type PublishComponents, publish } from './publish.js';

export interface DeleteResult {
  deleted: boolean;
  /** Peers that removed a replica. */
  peers: number;
}

export interface DeleteComponents extends TombstoneComponents, PublishComponents {
  vault: Vault | undefined;
  catalog: Catalog;
  metrics: ServerMetrics;
  config: Pick<NodeConfig, 'requestTimeoutMs'> & PublishComponents['config'];
}

/**
 * Deletes the local copy; with `everywhere`, the file itself: a catalog tombstone pushed to every
 * peer (so no node lists or serves it any more, whatever comes back later), and every peer's copy.
 */
export interface DeleteOptions {
  everywhere?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export async function deleteFile(
  c: DeleteComponents,
  key: string,
  options: DeleteOptions,
): Promise<DeleteResult> {
  const { vault, id } = fileOf(c.vault, key);
  const { ns } = vault;
  if (!options.everywhere) {
    const local = await c.cas.delete(ns, id).finally(() => c.inventory.changed());
    c.metrics.deletes.inc({ scope: 'local' });
    return { deleted: local, peers: 0 };
  }
  // Every copy written before this moment goes, and the version this node knows goes whatever
  // the clocks say; one written after it (a put elsewhere racing this delete, its replicas
  // landing while the deletes go round) is a newer version and stays, here and on every peer,
  // as the tombstone's own rule has it.
  const known = c.catalog.get(ns, id);
  const version = known && !known.deleted ? known.version : undefined;
  const tomb = await c.catalog.delete(key);
  // the tombstone's own time (its clock never runs behind one it has seen): the blob rule and
  // the catalog's then draw the line at the same moment
  const deletedAt = tomb.record.hlc.wall;
  await publish(c, tomb);
  const local = await deleteOlder(c, ns, id, deletedAt, version);
  c.metrics.deletes.inc({ scope: 'local' });
  const what = { ns, id, deletedAt, ...(version ? { version } : {}) };
  const results = await Promise.all(
    c.peerIds().map((peerId) =>
      askDelete(c, peerId, what, options.signal).catch((err) => {
        c.log.warn({ peer: peerId, code: errorCode(err) }, 'peer delete failed');
        return false;
      }),
    ),
  );
  await recordDelete(c, ns, id, deletedAt);
  return { deleted: local.deleted || tomb.existed, peers: results.filter(Boolean).length };
}

async function askDelete(
  c: DeleteComponents,
  peerId: string,
  what: { ns: string; id: string; deletedAt: number; version?: string },
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { msg } = await c.rpc.request(
    peerId,
    { type: 'delete', ...what },
    { expect: 'delete-ack', timeoutMs: c.config.requestTimeoutMs, signal },
  );
  return msg.deleted;
}
