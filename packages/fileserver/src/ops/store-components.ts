// What the put path (store, small puts, replica pushes) needs of the node.

import type { CasStore } from '@peerstash/cas-store';
import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import type { Inventory } from '../inventory.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import type { NodeCrypto } from '../node-crypto.js';
import type { TombstoneStore } from '../tombstones.js';
import type { Vault } from '../vault.js';
import type { PublishComponents } from './publish.js';

export interface StoreComponents extends PublishComponents {
  config: Pick<
    NodeConfig,
    | 'replication'
    | 'replicationMode'
    | 'chunkSize'
    | 'idleTimeoutMs'
    | 'stallTimeoutMs'
    | 'ackTimeoutMs'
  > &
    PublishComponents['config'];
  catalog: Catalog;
  vault: Vault | undefined;
  cas: CasStore;
  tombstones: TombstoneStore;
  inventory: Inventory;
  life: Lifecycle;
  rpc: PeerRpc;
  peerIds(): string[];
  metrics: ServerMetrics;
  log: Logger;
  /** Inline when absent. */
  crypto?: NodeCrypto | undefined;
}
