// The units a node is built from (each made once in start()) and the one order they stop in,
// also after a failed start, over whatever it had built.

import type { TcpTransport } from '@peerstash/transport-tcp';
import type { Catalog } from './catalog/catalog.js';
import type { Walk } from './catalog-walk.js';
import { type NodeFile, removeApiInfo } from './data-dir.js';
import type { DowntimeMark } from './downtime.js';
import { ClosedError } from './errors.js';
import type { HeldStore } from './held-store.js';
import { type ApiFront, closeFronts } from './http/api-front.js';
import type { ApiServer } from './http/api-server.js';
import type { Inventory } from './inventory.js';
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import type { CatalogRpc } from './net/catalog-rpc.js';
import type { PeerMesh } from './net/peer-mesh.js';
import type { PeerRpc } from './net/peer-rpc.js';
import { type NodeWarning, reachabilityWarnings } from './net/reachability.js';
import type { NodeCrypto } from './node-crypto.js';
import type { AntiEntropy } from './repair/anti-entropy.js';
import type { Scrubber } from './repair/scrub.js';
import type { TombstoneStore } from './tombstones.js';
import type { Vault } from './vault.js';

export interface Units {
  node: NodeFile;
  vault: Vault | undefined;
  secure: boolean;
  downtime: DowntimeMark;
  catalog: Catalog;
  cas: HeldStore;
  inventory: Inventory;
  tombstones: TombstoneStore;
  transport: TcpTransport;
  address: string;
  rpc: PeerRpc;
  catalogRpc: CatalogRpc;
  mesh: PeerMesh;
  repair: AntiEntropy;
  scrub: Scrubber;
  api: ApiServer;
  /** Front ends on the API listener (apiFronts), closed after it. */
  fronts: ApiFront[];
  /** The background reconcile walk after an unclean stop. */
  walk: Walk;
  /** Seal and open of big puts and gets: inline or on worker threads. */
  crypto: NodeCrypto;
}

/** Stops whatever was built of `u`, in this order; each step tolerates a unit never built. */
export async function stopUnits(
  u: Partial<Units>,
  life: Lifecycle,
  log: Logger,
  dataDir: string,
): Promise<void> {
  const closed = () => new ClosedError('file server stopped');
  const warn = (what: string) => (err: unknown) => log.warn({ err }, `closing ${what} failed`);
  let background: Promise<unknown> = Promise.resolve();
  const steps: Array<() => unknown> = [
    // 1. no new repair rounds or scrub passes; the ones in flight end below
    () => {
      background = Promise.all([u.repair?.stop(), u.scrub?.stop()]);
    },
    // 2. the last-alive mark, written once more
    () => u.downtime?.stop(),
    // 3. every disk write in progress gives up (store() rejects ERR_CLOSED)
    () => life.stopWrites(),
    // 4. no new dials; node.json's peer list written if due
    () => u.mesh?.stop(),
    // 5. requests waiting on peers fail now, so nothing waits for a peer's deadline
    () => u.rpc?.failAll(closed()),
    // 6. the HTTP API, then the peer links
    () => u.api?.close().catch(warn('the API')),
    () => closeFronts(u.fronts ?? [], warn('a front end')),
    () => u.transport?.close().catch(warn('the transport')),
    // 7. the round and pass cut short, and the aborted writes' clean-up: nothing touches the
    //    data dir once stop() resolves
    () => background,
    () => u.walk?.done,
    () => u.cas?.idle(),
    () => u.crypto?.close(),
    // 8. the catalog, last: every write that records a holding has ended
    () => u.cas?.detach(),
    () => u.catalog?.close().catch(warn('the catalog')),
    () => removeApiInfo(dataDir).catch(() => {}),
  ];
  for (const step of steps) await step();
}

/** Reachability warnings about the addresses of the peers linked now (status().warnings). */
export function linkedWarnings(
  u: Partial<Pick<Units, 'transport' | 'address'>>,
  advertise: string | undefined,
): NodeWarning[] {
  const { transport, address } = u;
  if (!transport || !address) return [];
  return reachabilityWarnings({
    listen: address,
    advertise,
    peerAddrs: transport
      .peers()
      .flatMap((p) => [p.listenAddr, p.remoteAddr].filter((a): a is string => !!a)),
  });
}
