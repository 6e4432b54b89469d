// Serving side of list-request: stream the blobs this node holds in a namespace as JSON lines,
// one per blob, in batches.

import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import { listBody } from '../cluster-list.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ListRequest, ListResponse } from '../messages.js';
import type { PeerRpc } from '../net/peer-rpc.js';

export async function serveList(
  c: { cas: CasStore; rpc: PeerRpc; log: Logger },
  peerId: string,
  req: ListRequest,
): Promise<void> {
  let out: Awaited<ReturnType<PeerRpc['openStream']>>;
  try {
    out = await c.rpc.openStream(peerId, {
      type: 'list-response',
      reqId: req.reqId,
    } satisfies ListResponse);
  } catch (err) {
    c.log.debug({ peer: peerId, err }, 'could not open a stream to the peer');
    return;
  }
  try {
    await pipeline(listBody(c.cas, req.ns), out);
  } catch (err) {
    c.log.debug({ peer: peerId, code: errorCode(err) }, 'listing for a peer ended early');
  }
}
