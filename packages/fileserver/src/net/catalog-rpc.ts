// The catalog's peer interface (catalog/sync.ts CatalogPeers, CatalogHandlers) on the node's
// PeerRpc: requests get their id and deadline there, and a handler's return value is sent back.

import type {
  CatalogReply,
  CatalogRequest,
  HoldingsQuery,
  HoldingsReply,
} from '../catalog/messages.js';
import type { CatalogHandlers, CatalogPeers, Outgoing, RequestOptions } from '../catalog/sync.js';
import type { Logger } from '../logger.js';
import type { PeerMessage } from '../messages.js';
import type { PeerRpc, RequestBody } from './peer-rpc.js';

/** Types that answer a catalog request (registered with rpc.answers). */
export const CATALOG_REPLIES = [
  'catalog-push-ack',
  'catalog-roots-reply',
  'catalog-summary-reply',
  'catalog-fetch-reply',
  'holdings-reply',
] as const;

export interface CatalogRpc extends CatalogPeers, CatalogHandlers {
  /** Asks one peer which versions of `ids` it holds. */
  holdings(peer: string, ns: string, ids: string[], timeoutMs: number): Promise<HoldingsReply>;
  /** Answers holdings queries with `fn`. */
  serveHoldings(fn: (msg: HoldingsQuery) => Uint8Array): void;
}

export function catalogRpc(
  rpc: PeerRpc,
  peerIds: () => string[],
  defaultTimeoutMs: number,
  log: Logger,
  /** Told the encoded size of each request and answer of a sync (repair counts its bytes). */
  countBytes?: (n: number) => void,
): CatalogRpc {
  const reply = (peer: string, msg: PeerMessage) =>
    rpc.send(peer, msg).catch((err) => log.debug({ peer, err }, 'catalog reply not sent'));
  return {
    peers: peerIds,
    async request(peer: string, msg: Outgoing<CatalogRequest>, options: RequestOptions) {
      const r = await rpc.request(peer, msg as RequestBody, {
        expect: options.expect,
        timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
        signal: options.signal,
        ...(countBytes ? { countBytes } : {}),
      });
      return r.msg as CatalogReply;
    },
    handle(type, fn) {
      rpc.handle(type, async (peer, msg) => {
        const out = await fn(msg as CatalogRequest, peer);
        await reply(peer, { ...out, reqId: (msg as CatalogRequest).reqId } as PeerMessage);
      });
    },
    async holdings(peer, ns, ids, timeoutMs) {
      const r = await rpc.request(
        peer,
        { type: 'holdings-query', ns, ids },
        { expect: 'holdings-reply', timeoutMs },
      );
      return r.msg;
    },
    serveHoldings(fn) {
      rpc.handle('holdings-query', async (peer, msg) => {
        await reply(peer, { type: 'holdings-reply', reqId: msg.reqId, held: fn(msg) });
      });
    },
  };
}
