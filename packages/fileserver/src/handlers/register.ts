// The serving side of the node, wired to peer-rpc: which handler answers each peer message and
// stream, and which types are answers to this node's own requests.

import type { Catalog } from '../catalog/catalog.js';
import { CATALOG_REPLIES, type CatalogRpc } from '../net/catalog-rpc.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { type ReceiveComponents, receiveReplica, receiveSmall } from './receive-replica.js';
import { type ReportComponents, ReportedRot } from './reported-rot.js';
import { type ServeComponents, serveDelete, serveGet } from './serve-blobs.js';
import { heldVersions } from './serve-holdings.js';
import { serveList } from './serve-list.js';

export type HandlerComponents = ReceiveComponents &
  ServeComponents &
  ReportComponents & { rpc: PeerRpc; catalog: Catalog; catalogRpc: CatalogRpc };

export function registerHandlers(c: HandlerComponents): void {
  const { rpc } = c;
  rpc.answers(
    'store-commit',
    'store-abort',
    'store-ack',
    'get-response',
    'delete-ack',
    'list-response',
    'repair-summary-reply',
    'repair-have-reply',
    ...CATALOG_REPLIES,
  );
  c.catalogRpc.serveHoldings((msg) => heldVersions(c.catalog.holdings, msg.ns, msg.ids));
  rpc.handleStream('store-offer', (peer, offer, stream) => receiveReplica(c, peer, offer, stream));
  rpc.handle('store-small', (peer, msg) => receiveSmall(c, peer, msg));
  rpc.handle('get-request', (peer, msg) => serveGet(c, peer, msg));
  rpc.handle('delete', (peer, msg) => serveDelete(c, peer, msg));
  rpc.handle('list-request', (peer, msg) => serveList(c, peer, msg));
  const rot = new ReportedRot(c);
  rpc.handle('integrity-report', (peer, msg) => rot.check(peer, msg));
}
