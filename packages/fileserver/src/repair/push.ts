// Repair pushes: one entry to one peer, as a tombstone message or as the sealed blob offered with
// its digest up front, through the token bucket shared by every repair push.

import { pipeline } from 'node:stream/promises';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { errorCode } from '../errors.js';
import type { Extra, StoreOffer } from '../messages.js';
import { newReqId } from '../net/peer-rpc.js';
import { Throttle, TokenBucket } from '../rate-limit.js';
import { Meter } from '../streams.js';
import { blobTime, isTomb } from '../versions.js';
import type { RepairComponents } from './components.js';
import type { Held } from './holdings.js';
import type { TombstoneMessage } from './messages.js';

/** The metadata that travels with a pushed replica, its version's time included. */
function toExtra(meta: BlobMeta): Extra {
  const out: Extra = {};
  for (const [k, v] of Object.entries(meta.extra ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  out.putAt = blobTime(meta.extra, meta.createdAt);
  return out;
}

export class RepairPusher {
  readonly #c: RepairComponents;
  readonly #bucket: TokenBucket;

  constructor(components: RepairComponents) {
    this.#c = components;
    this.#bucket = new TokenBucket(components.config.repair.rateBytesPerSec);
  }

  /** Sends one entry to a peer; true once the peer holds it (or was told of the tombstone). */
  async push(peer: string, e: Held): Promise<boolean> {
    const c = this.#c;
    if (isTomb(e)) {
      const t = c.tombstones.get(e.ns, e.id);
      if (!t) return false;
      const msg: TombstoneMessage = { type: 'tombstone', ...t };
      await c.rpc.send(peer, msg).catch(() => {});
      return true;
    }
    let read: Awaited<ReturnType<CasStore['read']>>;
    try {
      read = await c.cas.read(e.ns, e.id);
    } catch {
      return false;
    }
    const { stream, meta } = read;
    if (meta.digest !== e.v) {
      stream.destroy();
      return false;
    }
    const reply = c.rpc.expectReply(peer, newReqId());
    try {
      const offer: StoreOffer = {
        type: 'store-offer',
        reqId: reply.reqId,
        ns: e.ns,
        id: e.id,
        extra: toExtra(meta),
        digest: meta.digest,
        size: meta.size,
      };
      const out = await c.rpc.openStream(peer, offer);
      const counted = new Meter({
        onBytes: (n) => {
          c.tally.bytesSent += n;
        },
      });
      const sent = pipeline(stream, new Throttle(this.#bucket), counted, out).catch(() => {
        // the receiver may cut the stream short when it already holds the blob; its ack decides
      });
      const ack = await reply.answer('store-ack', c.config.repair.ackTimeoutMs);
      // an early answer (already held, or refused) leaves bytes unsent: stop reading them
      if (!stream.readableEnded) stream.destroy();
      await sent;
      if (!ack.msg.ok) c.log.debug({ peer, id: e.id, code: ack.msg.code }, 'repair push refused');
      return ack.msg.ok;
    } catch (err) {
      stream.destroy();
      c.log.debug({ peer, id: e.id, code: errorCode(err) }, 'repair push failed');
      return false;
    } finally {
      reply.cancel();
    }
  }
}
