// What receiving (and forwarding) a replica needs of the node.

import type { CasStore } from '@peerstash/cas-store';
import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import type { Inventory } from '../inventory.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import type { TombstoneStore } from '../tombstones.js';

export interface ReceiveComponents {
  config: Pick<NodeConfig, 'idleTimeoutMs' | 'stallTimeoutMs' | 'ackTimeoutMs'>;
  nodeId: string;
  /** Linked peers (a chain is forwarded only to one of them). */
  peerIds(): string[];
  cas: CasStore;
  catalog: Catalog;
  inventory: Inventory;
  tombstones: TombstoneStore;
  life: Lifecycle;
  rpc: PeerRpc;
  metrics: ServerMetrics;
  log: Logger;
}
