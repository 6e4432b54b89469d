// Deleting a file: the local copy, and with `everywhere` every connected peer's replica too and a
// tombstone that keeps it deleted on nodes that were down.

import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import { errorCode } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import { recordDelete, type TombstoneComponents } from '../tombstone-rules.js';
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
  let existed = false;
  if (options.everywhere) {
    const tomb = await c.catalog.delete(key);
    existed = tomb.existed;
    await publish(c, tomb);
  }
  const local = await c.cas.delete(ns, id).finally(() => c.inventory.changed());
  const deleted = local || existed;
  c.metrics.deletes.inc({ scope: 'local' });
  let peers = 0;
  if (options.everywhere) {
    const results = await Promise.all(
      c.peerIds().map((peerId) =>
        askDelete(c, peerId, ns, id, options.signal).catch((err) => {
          c.log.warn({ peer: peerId, code: errorCode(err) }, 'peer delete failed');
          return false;
        }),
      ),
    );
    peers = results.filter(Boolean).length;
    await recordDelete(c, ns, id);
  }
  return { deleted, peers };
}

async function askDelete(
  c: DeleteComponents,
  peerId: string,
  ns: string,
  id: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { msg } = await c.rpc.request(
    peerId,
    { type: 'delete', ns, id },
    { expect: 'delete-ack', timeoutMs: c.config.requestTimeoutMs, signal },
  );
  return msg.deleted;
}
