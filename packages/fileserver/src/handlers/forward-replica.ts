// A chain offer's forwarding: while a replica is received and written here, it is streamed on to
// the next peer of the chain (with the rest of the chain), the upstream's store-commit follows it,
// and the next peer's ack tells which copies below this node are durable.

import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BOUNDS } from '../config.js';
import { errorCode } from '../errors.js';
import type { StoreOffer } from '../messages.js';
import { newReqId } from '../net/peer-rpc.js';
import { rankNodes } from '../placement.js';
import { Meter, watchStalled } from '../streams.js';
import type { ReceiveComponents } from './receive-components.js';

export interface Forward {
  next: string;
  /** What the receiving side writes into besides the local write. */
  input: Meter;
  /** Passes the upstream's digest on (after this node's stream end went out). */
  commit(msg: { digest: string; size: number }): void;
  /** The replica here failed before its commit: nothing is committed below either. */
  abort(err: Error): void;
  /** The copies made from the next peer down; [] when anything failed (never rejects). */
  copies: Promise<string[]>;
}

/**
 * Why this node will not forward `offer` (undefined: it will). The next hop must be a peer this
 * node is linked to and among the first placement peers of the file in its own view, and the
 * chain must not name this node or the sender: a peer cannot use a node as a relay to anywhere.
 */
function refusal(
  c: ReceiveComponents,
  upstream: string,
  chain: string[],
  id: string,
): string | undefined {
  const next = chain[0]!;
  if (chain.includes(c.nodeId) || chain.includes(upstream)) return 'the chain loops';
  const linked = c.peerIds();
  if (!linked.includes(next)) return 'not linked to the next hop';
  const placed = rankNodes(
    id,
    linked.filter((p) => p !== upstream),
  ).slice(0, BOUNDS.maxChain);
  if (!placed.includes(next)) return 'the next hop is not a placement peer';
  return undefined;
}

/** Opens the stream to the chain's next hop; undefined (logged) when it cannot. */
export async function openForward(
  c: ReceiveComponents,
  upstream: string,
  offer: StoreOffer,
): Promise<Forward | undefined> {
  const chain = offer.chain ?? [];
  if (chain.length === 0) return undefined;
  const why = refusal(c, upstream, chain, offer.id);
  if (why) {
    c.log.warn({ peer: upstream, next: chain[0], id: offer.id }, `chain not forwarded: ${why}`);
    return undefined;
  }
  const [next, ...rest] = chain as [string, ...string[]];
  const reply = c.rpc.expectReply(next, newReqId());
  let out: Writable;
  try {
    out = await c.rpc.openStream(next, {
      type: 'store-offer',
      reqId: reply.reqId,
      ns: offer.ns,
      id: offer.id,
      extra: offer.extra,
      ...(rest.length > 0 ? { chain: rest } : {}),
    });
  } catch (err) {
    reply.cancel();
    c.metrics.replicaFailures.inc();
    c.log.warn({ peer: next, code: errorCode(err) }, 'cannot open the chain to its next hop');
    return undefined;
  }
  const input = new Meter({
    onBytes: (n) => c.metrics.bytesOut.inc({ via: 'forward' }, n),
    idleMs: c.config.idleTimeoutMs,
    what: 'replica forward',
    highWaterMark: BOUNDS.localBuffer,
  });
  // a next hop that takes nothing is dropped before the writer gives up on this node: with k hops
  // below, after k/(k+1) of the stall timeout (shorter the deeper, the writer's own is the whole)
  const stallMs = Math.round((c.config.stallTimeoutMs * chain.length) / (chain.length + 1));
  watchStalled(input, stallMs, 'replica forward');
  const sent = pipeline(input, out);
  let settle!: (m: { digest: string; size: number } | Error) => void;
  const committed = new Promise<{ digest: string; size: number } | Error>((r) => {
    settle = r;
  });
  const copies = (async (): Promise<string[]> => {
    try {
      await sent;
      const m = await committed;
      if (m instanceof Error) throw m;
      const { digest, size } = m;
      await c.rpc.send(next, { type: 'store-commit', reqId: reply.reqId, digest, size });
      // each hop below waits for its own next one: more patience the longer the rest
      const { msg } = await reply.answer('store-ack', c.config.ackTimeoutMs * chain.length);
      const below = msg.copies ?? (msg.ok ? [next] : []);
      return below.filter((p) => chain.includes(p));
    } catch (err) {
      c.metrics.replicaFailures.inc();
      c.log.warn({ peer: next, id: offer.id, code: errorCode(err) }, 'chain hop failed');
      return [];
    } finally {
      reply.cancel();
    }
  })();
  return {
    next,
    input,
    commit: (m) => settle(m),
    abort: (err) => {
      settle(err);
      input.destroy(err);
    },
    copies,
  };
}
