// The node's status report (NodeStatus): identity, peers, what it holds, and the state of its
// repair, scrubbing and downtime mark, gathered from the units that own each part.

import type { PeerInfo } from '@peerstash/transport-tcp';
import type { Catalog } from '../catalog/catalog.js';
import type { Inventory } from '../inventory.js';
import type { NodeWarning } from '../net/reachability.js';
import type { RepairStatus } from '../repair/anti-entropy.js';
import type { ScrubStatus } from '../repair/scrub.js';

export interface PeerStatus {
  id: string;
  listenAddr: string | undefined;
  remoteAddr: string | undefined;
  outbound: boolean;
}

export interface NodeStatus extends RepairStatus, ScrubStatus {
  /** How long the node had been down when it started (null on its first start). */
  offlineBeforeStartMs: number | null;
  /**
   * It had been down longer than the tombstone TTL: deletes everywhere made meanwhile may have
   * been forgotten by the cluster, so files deleted then can come back from this node.
   */
  tombstonesMayBeMissed: boolean;
  nodeId: string;
  listen: string;
  /** The peer address announced to peers: `advertise` when set, else `listen`. */
  advertise: string;
  /** Conditions worth an operator's attention (a loopback address in a wider cluster). */
  warnings: NodeWarning[];
  /** Peers the node knows of (linked, reached before, or named by peers), bounded. */
  knownPeers: number;
  api: string | null;
  /** Protocol front ends the process serves beside the node (set by its host: `peerstash serve`). */
  gateways: Gateways;
  storageOnly: boolean;
  secure: boolean;
  replicationFactor: number;
  namespace: string | null;
  peers: PeerStatus[];
  /** Blobs this node holds and their sealed bytes (from the holdings index). */
  blobs: number;
  bytes: number;
  /** The cluster's files as this node's catalog knows them (storage-only nodes too, sealed). */
  catalog: { files: number; bytes: number; tombstones: number; quarantined: number };
  /** The holdings index is being reconciled with the blob store (after an unclean stop). */
  reconciling: boolean;
  process: { pid: number; rss: number; maxRss: number; uptime: number };
}

/** The URL of each gateway listener (S3, restic) serving this node's vault. */
export interface Gateways {
  s3?: string;
  restic?: string;
}

/** What a node is, as status() reports it. */
export type NodeIdentity = Pick<
  NodeStatus,
  | 'nodeId'
  | 'listen'
  | 'advertise'
  | 'api'
  | 'storageOnly'
  | 'secure'
  | 'replicationFactor'
  | 'namespace'
>;

export interface StatusComponents {
  identity: NodeIdentity;
  gateways: Gateways;
  peers(): PeerInfo[];
  warnings(): NodeWarning[];
  knownPeers(): number;
  inventory: Inventory;
  repair: { status(): RepairStatus; keysHeldNow(): number | undefined };
  scrub: { status(): ScrubStatus };
  downtime: { offlineBeforeStartMs: number | null; tombstonesMayBeMissed: boolean };
  catalog: Catalog;
  walking(): boolean;
}

export async function nodeStatus(c: StatusComponents): Promise<NodeStatus> {
  const { blobs, bytes } = await c.inventory.counts();
  const mem = process.memoryUsage();
  return {
    ...c.identity,
    gateways: { ...c.gateways },
    warnings: c.warnings(),
    knownPeers: c.knownPeers(),
    peers: c.peers().map((p) => ({
      id: p.id,
      listenAddr: p.listenAddr,
      remoteAddr: p.remoteAddr,
      outbound: p.outbound,
    })),
    blobs,
    bytes,
    catalog: {
      ...(({ files, bytes, tombstones }) => ({ files, bytes, tombstones }))(c.catalog.counts()),
      quarantined: c.catalog.quarantinedCount(),
    },
    reconciling: c.walking(),
    ...c.repair.status(),
    // the last round's count goes stale with every put or delete: then every blob is a key held
    // (a key has one blob here), so the figure agrees with `blobs` before the first round too
    keysHeld: c.repair.keysHeldNow() ?? blobs,
    ...c.scrub.status(),
    offlineBeforeStartMs: c.downtime.offlineBeforeStartMs,
    tombstonesMayBeMissed: c.downtime.tombstonesMayBeMissed,
    process: {
      pid: process.pid,
      rss: mem.rss,
      maxRss: process.resourceUsage().maxRSS * 1024,
      uptime: process.uptime(),
    },
  };
}
