// Which nodes hold the current version of some files: this node's holdings index, and one
// holdings query per connected peer (at most 1,000 ids each), answered from their indexes.

import type { Catalog } from '../catalog/catalog.js';
import { BOUNDS, type NodeConfig } from '../config.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CatalogRpc } from '../net/catalog-rpc.js';

export interface HolderComponents {
  nodeId: string;
  catalog: Catalog;
  catalogRpc: CatalogRpc;
  peerIds(): string[];
  config: Pick<NodeConfig, 'requestTimeoutMs'>;
  log: Logger;
}

export interface FileVersion {
  id: string;
  /** The sealed digest that counts (the catalog's winning version). */
  version: string;
}

/**
 * The ids of the nodes holding each file's `version`, in the order given (this node first, then
 * peers in id order). A peer that does not answer in time is left out and logged.
 */
export async function holdersOf(
  c: HolderComponents,
  ns: string,
  files: readonly FileVersion[],
): Promise<string[][]> {
  const out = files.map((f) =>
    c.catalog.holdings.get(ns, f.id)?.version === f.version ? [c.nodeId] : [],
  );
  if (files.length === 0) return out;
  const peers = [...c.peerIds()].sort();
  const per = await Promise.all(peers.map((peer) => peerHolds(c, peer, ns, files)));
  peers.forEach((peer, p) => {
    const held = per[p];
    if (!held) return;
    files.forEach((_, i) => {
      if (held[i]) out[i]!.push(peer);
    });
  });
  return out;
}

/** Per file, whether `peer` holds its version; undefined when the peer did not answer. */
async function peerHolds(
  c: HolderComponents,
  peer: string,
  ns: string,
  files: readonly FileVersion[],
): Promise<boolean[] | undefined> {
  const out: boolean[] = [];
  try {
    for (let i = 0; i < files.length; i += BOUNDS.holdingsQueryIds) {
      const batch = files.slice(i, i + BOUNDS.holdingsQueryIds);
      const { held } = await c.catalogRpc.holdings(
        peer,
        ns,
        batch.map((f) => f.id),
        c.config.requestTimeoutMs,
      );
      const buf = Buffer.from(held.buffer, held.byteOffset, held.byteLength);
      batch.forEach((f, j) => {
        out.push(
          buf.length >= 32 * (j + 1) && buf.toString('hex', 32 * j, 32 * (j + 1)) === f.version,
        );
      });
    }
    return out;
  } catch (err) {
    c.log.info({ peer, code: errorCode(err) }, 'a peer did not say what it holds');
    return undefined;
  }
}
