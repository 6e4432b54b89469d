// Serving side of store-offer and store-small: a peer streams a replica (or sends a small one
// whole); keep it only if it matches the digest, offered up front or sent after the bytes in a
// store-commit, and acknowledge either way.

import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Catalog } from '../catalog/catalog.js';
import { BOUNDS } from '../config.js';
import { AbortedError, CODES, DeletedError, errorCode, SupersededError } from '../errors.js';
import type { StoreOffer, StoreSmall } from '../messages.js';
import { liveSince } from '../repair/catalog-order.js';
import { bothDone, Fanout, Meter } from '../streams.js';
import { refusesOffer } from '../tombstone-rules.js';
import { type Forward, openForward } from './forward-replica.js';
import type { ReceiveComponents } from './receive-components.js';

export type { ReceiveComponents } from './receive-components.js';

/**
 * Whether the catalog here has no say against the offered version: it names it, or it has no
 * record of the file and the version is newer than the tombstones forgotten here (an older one
 * may be a deleted file coming back from a node that was away past the TTL).
 */
function currentHere(catalog: Catalog, offer: StoreOffer): boolean {
  const r = catalog.get(offer.ns, offer.id);
  if (r) return !r.deleted && r.version === offer.digest;
  const putAt = offer.extra.putAt;
  return typeof putAt !== 'number' || putAt > catalog.prunedUpTo(offer.ns);
}

/**
 * Whether this node's catalog has a live record naming the offered version (a repair push's),
 * written at or after the blob tombstone here (an older one has not heard of the delete yet).
 */
function namedCurrent(c: ReceiveComponents, offer: StoreOffer): boolean {
  const since = c.tombstones.get(offer.ns, offer.id)?.deletedAt ?? 0;
  const r = liveSince(c.catalog, offer.ns, offer.id, since);
  return offer.digest !== undefined && r?.version === offer.digest;
}

/**
 * A small replica sent whole (store-small): written and synced at once, kept once the writer's
 * store-commit names its digest (the writer's own copy is durable by then), acked either way.
 */
export async function receiveSmall(
  c: ReceiveComponents,
  peerId: string,
  msg: StoreSmall,
): Promise<void> {
  const offer: StoreOffer = {
    type: 'store-offer',
    reqId: msg.reqId,
    ns: msg.ns,
    id: msg.id,
    extra: msg.extra,
  };
  // each is held until its commit: a peer sending them faster than it commits is refused, not
  // buffered without bound
  let pending = waitingSmall.get(c);
  if (!pending) {
    pending = new Map();
    waitingSmall.set(c, pending);
  }
  const held = pending.get(peerId) ?? 0;
  if (held + msg.data.length > BOUNDS.smallPendingPerPeer) {
    c.log.warn({ peer: peerId, id: msg.id, held }, 'small replica refused: too many waiting');
    await c.rpc
      .send(peerId, { type: 'store-ack', reqId: msg.reqId, ok: false, code: CODES.LIMIT })
      .catch((err) => c.log.debug({ peer: peerId, err }, 'could not ack replica'));
    return;
  }
  pending.set(peerId, held + msg.data.length);
  try {
    await receiveReplica(c, peerId, offer, msg.data);
  } finally {
    const left = (pending.get(peerId) ?? 0) - msg.data.length;
    if (left > 0) pending.set(peerId, left);
    else pending.delete(peerId);
  }
}

/** Sealed bytes of store-small replicas waiting for their commit, per node and peer. */
const waitingSmall = new WeakMap<ReceiveComponents, Map<string, number>>();

/**
 * Keeps a peer's replica only if it matches the digest, offered up front or sent after the stream
 * in a store-commit (cas-store's late expectedDigest: hashed once, as written). `source` is the
 * replica's bytes whole for a store-small (no stream, no meter: they are all here).
 */
export async function receiveReplica(
  c: ReceiveComponents,
  peerId: string,
  offer: StoreOffer,
  source: Readable | Uint8Array,
): Promise<void> {
  const whole = source instanceof Uint8Array ? source : undefined;
  const drop = () => {
    if (!whole) (source as Readable).destroy();
  };
  const { cas } = c;
  // a chain offer's ack names every copy made from here down, this one first if it was kept
  const chained = offer.chain !== undefined;
  let below: Promise<string[]> = Promise.resolve([]);
  const ack = async (ok: boolean, code?: string) => {
    const copies = chained ? [...(ok ? [c.nodeId] : []), ...(await below)] : undefined;
    await c.rpc
      .send(peerId, {
        type: 'store-ack',
        reqId: offer.reqId,
        ok,
        ...(code ? { code } : {}),
        ...(copies ? { copies } : {}),
      })
      .catch((err) => c.log.debug({ peer: peerId, err }, 'could not ack replica'));
  };
  // a repair push of the version this node's catalog names current is taken whatever the blob
  // tombstone says: the catalog lists it (a put that began before a delete and committed after it)
  if (refusesOffer(c.tombstones, offer) && !namedCurrent(c, offer)) {
    // deleted everywhere after this version was written: never bring it back
    drop();
    await ack(false, new DeletedError().code);
    return;
  }
  if (offer.digest !== undefined && !currentHere(c.catalog, offer)) {
    // a repair push of a version this node's catalog does not name current: the two catalogs
    // disagree for now (the next round's sync settles it); never trade the current one for it
    drop();
    await ack(false, new SupersededError().code);
    return;
  }
  const commit = offer.digest === undefined ? c.rpc.expectReply(peerId, offer.reqId) : undefined;
  let fwd: Forward | undefined;
  try {
    if (offer.digest !== undefined) {
      const existing = await cas.stat(offer.ns, offer.id).catch(() => undefined);
      if (existing && existing.digest === offer.digest) {
        drop();
        await ack(true);
        return;
      }
    }
    let bytes: Meter | PassThrough | Uint8Array[];
    let piping: Promise<void>;
    if (whole) {
      c.metrics.bytesIn.inc({ via: 'peer' }, whole.length);
      bytes = [whole];
      piping = Promise.resolve();
    } else {
      const meter = new Meter({
        onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
        idleMs: c.config.idleTimeoutMs,
        what: 'replica receive',
      });
      // a chain: written here and, while it arrives, forwarded to the next hop (at the pace of
      // the slower of the two, nothing buffered whole); a next hop that fails or stalls is dropped
      fwd = chained ? await openForward(c, peerId, offer) : undefined;
      if (fwd) below = fwd.copies;
      bytes = fwd ? new PassThrough({ highWaterMark: BOUNDS.localBuffer }) : meter;
      piping = fwd
        ? pipeline(source as Readable, meter, new Fanout(bytes, [fwd.input], () => {}))
        : pipeline(source as Readable, meter);
    }
    const expectedDigest =
      offer.digest ??
      (async () => {
        const { msg } = await commit!.answer(
          ['store-commit', 'store-abort'],
          c.config.ackTimeoutMs,
        );
        if (msg.type === 'store-abort') throw new AbortedError('the writer gave up the put');
        // passed on before this node's own check: every hop checks the bytes it received
        fwd?.commit(msg);
        return msg.digest;
      });
    const writing = cas
      .write(offer.ns, offer.id, bytes, {
        extra: offer.extra,
        expectedDigest,
        signal: c.life.halt,
      })
      .finally(() => c.inventory.changed());
    await bothDone(writing, piping);
    await ack(true);
  } catch (err) {
    drop();
    fwd?.abort(err instanceof Error ? err : new Error(String(err)));
    const code = errorCode(err) ?? CODES.PROTOCOL;
    if (code === CODES.INTEGRITY) c.metrics.integrityFailures.inc({ source: 'peer' });
    c.log.warn({ peer: peerId, id: offer.id, code }, 'replica not kept');
    await ack(false, code);
  } finally {
    commit?.cancel();
  }
}
