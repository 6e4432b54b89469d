// Serving side of store-offer: a peer streams a replica; keep it only if it matches the digest,
// offered up front or sent after the stream in a store-commit, and acknowledge either way.

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import { CODES, DeletedError, errorCode, SupersededError } from '../errors.js';
import type { Inventory } from '../inventory.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { StoreOffer } from '../messages.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { bothDone, Meter } from '../streams.js';
import { refusesOffer } from '../tombstone-rules.js';
import type { TombstoneStore } from '../tombstones.js';

export interface ReceiveComponents {
  config: Pick<NodeConfig, 'idleTimeoutMs' | 'ackTimeoutMs'>;
  cas: CasStore;
  catalog: Catalog;
  inventory: Inventory;
  tombstones: TombstoneStore;
  life: Lifecycle;
  rpc: PeerRpc;
  metrics: ServerMetrics;
  log: Logger;
}

/** Whether the catalog here has no say against the offered version (no record, or it is the one). */
function currentHere(catalog: Catalog, offer: StoreOffer): boolean {
  const r = catalog.get(offer.ns, offer.id);
  return !r || (!r.deleted && r.version === offer.digest);
}

/**
 * Keeps a peer's replica only if it matches the digest, offered up front or sent after the stream
 * in a store-commit (cas-store's late expectedDigest: hashed once, as written).
 */
export async function receiveReplica(
  c: ReceiveComponents,
  peerId: string,
  offer: StoreOffer,
  stream: Readable,
): Promise<void> {
  const { cas } = c;
  const ack = (ok: boolean, code?: string) =>
    c.rpc
      .send(peerId, { type: 'store-ack', reqId: offer.reqId, ok, ...(code ? { code } : {}) })
      .catch((err) => c.log.debug({ peer: peerId, err }, 'could not ack replica'));
  if (refusesOffer(c.tombstones, offer)) {
    // deleted everywhere after this version was written: never bring it back
    stream.destroy();
    await ack(false, new DeletedError().code);
    return;
  }
  if (offer.digest !== undefined && !currentHere(c.catalog, offer)) {
    // a repair push of a version this node's catalog does not name current: the two catalogs
    // disagree for now (the next round's sync settles it); never trade the current one for it
    stream.destroy();
    await ack(false, new SupersededError().code);
    return;
  }
  const commit = offer.digest === undefined ? c.rpc.expectReply(peerId, offer.reqId) : undefined;
  try {
    if (offer.digest !== undefined) {
      const existing = await cas.stat(offer.ns, offer.id).catch(() => undefined);
      if (existing && existing.digest === offer.digest) {
        stream.destroy();
        await ack(true);
        return;
      }
    }
    const meter = new Meter({
      onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
      idleMs: c.config.idleTimeoutMs,
      what: 'replica receive',
    });
    const piping = pipeline(stream, meter);
    const expectedDigest =
      offer.digest ??
      (async () => {
        const { msg } = await commit!.answer('store-commit', c.config.ackTimeoutMs);
        return msg.digest;
      });
    const writing = cas
      .write(offer.ns, offer.id, meter, {
        extra: offer.extra,
        expectedDigest,
        signal: c.life.halt,
      })
      .finally(() => c.inventory.changed());
    await bothDone(writing, piping);
    await ack(true);
  } catch (err) {
    stream.destroy();
    const code = errorCode(err) ?? CODES.PROTOCOL;
    if (code === CODES.INTEGRITY) c.metrics.integrityFailures.inc({ source: 'peer' });
    c.log.warn({ peer: peerId, id: offer.id, code }, 'replica not kept');
    await ack(false, code);
  } finally {
    commit?.cancel();
  }
}
