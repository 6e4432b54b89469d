// What the repair units receive from the node: its stores, peer messaging and config, plus the
// tally of repair traffic they share (shown in status()).

import type { CasStore } from '@peerstash/cas-store';
import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import type { Inventory } from '../inventory.js';
import type { Logger } from '../logger.js';
import type { CatalogRpc } from '../net/catalog-rpc.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import type { TombstoneStore } from '../tombstones.js';

export interface RepairComponents {
  nodeId: string;
  config: Pick<NodeConfig, 'repair' | 'replication'>;
  cas: CasStore;
  /** Records of the whole cluster and this node's holdings (what a round compares first). */
  catalog: Catalog;
  catalogRpc: CatalogRpc;
  inventory: Inventory;
  tombstones: TombstoneStore;
  rpc: PeerRpc;
  /** Ids of the peers connected now. */
  peerIds(): string[];
  /** Whether the node takes peer traffic now. */
  live(): boolean;
  log: Logger;
  tally: RepairTally;
}

/** Repair traffic since start. */
export interface RepairTally {
  /** Blob bytes pushed for repair. */
  bytesSent: number;
  /** Summary, catalog-sync and holdings-query bytes sent and received. */
  summaryBytes: number;
}

export function upsert<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (x: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
