// The writer's side of a replica: a stream to one peer (fan-out) or to the head of a chain of
// peers (chain replication: the head stores and forwards to the next while receiving), the
// store-commit after it, and the direct sends from the local copy for copies a chain missed.

import { pipeline } from 'node:stream/promises';
import { BOUNDS } from '../config.js';
import { CODES, errorCode, FileServerError } from '../errors.js';
import type { Extra, StoreCommit, StoreOffer } from '../messages.js';
import { newReqId, type PendingReply } from '../net/peer-rpc.js';
import { rankNodes } from '../placement.js';
import { Meter, watchStalled } from '../streams.js';
import type { StoreComponents } from './store-components.js';

/** A replica being streamed to one peer (and through it, for a chain, to the rest). */
export interface Push {
  peerId: string;
  /** The peers after `peerId` in a chain (empty: fan-out, one copy). */
  chain: string[];
  reply: PendingReply;
  /** What the fan-out writes into (counts bytes, fails when the peer stalls). */
  input: Meter;
  /** Settles when the stream's end went out, or it broke. */
  sent: Promise<void>;
  started: number;
  error?: Error;
}

/** Whether this put streams its replicas down a chain rather than to each peer itself. */
export function useChain(c: StoreComponents, targets: string[]): boolean {
  const mode = c.config.replicationMode;
  // with one replica peer a chain is a fan-out with a header: the same bytes on the same link
  return mode === 'chain' ? targets.length >= 2 : mode === 'auto' && targets.length >= 2;
}

/** Opens a replica stream to one peer; undefined (and counted) when that fails. */
export async function openPush(
  c: StoreComponents,
  peerId: string,
  ns: string,
  id: string,
  extra: Extra,
  chain: string[] = [],
  // a chain head that takes nothing for the stall timeout is given up on (each forwarder below
  // drops a stalled next hop sooner, so a healthy head is not blamed for it); 0: never
  stallMs = chain.length > 0 ? c.config.stallTimeoutMs : 0,
): Promise<Push | undefined> {
  const reply = c.rpc.expectReply(peerId, newReqId());
  try {
    const offer: StoreOffer = {
      type: 'store-offer',
      reqId: reply.reqId,
      ns,
      id,
      extra,
      ...(chain.length > 0 ? { chain } : {}),
    };
    const out = await c.rpc.openStream(peerId, offer);
    const input = new Meter({
      onBytes: (n) => c.metrics.bytesOut.inc({ via: 'peer' }, n),
      idleMs: c.config.idleTimeoutMs,
      what: chain.length > 0 ? 'replica chain' : 'replica push',
      // slack so one replica's momentary stall does not stop the others and the local write
      highWaterMark: BOUNDS.localBuffer,
    });
    watchStalled(input, stallMs, 'replica push');
    const push: Push = {
      peerId,
      chain,
      reply,
      input,
      started: performance.now(),
      sent: pipeline(input, out),
    };
    push.sent.catch((err) => {
      if (!push.error) push.error = err;
    });
    return push;
  } catch (err) {
    reply.cancel();
    c.metrics.replicaFailures.inc();
    c.log.warn({ peer: peerId, code: errorCode(err) }, 'cannot open a replica stream');
    return undefined;
  }
}

/**
 * Opens the chain through `targets`: the first that takes the stream is its head, the ones after
 * it the rest (a target that cannot be reached is left to the direct sends after the stream).
 */
export async function openChain(
  c: StoreComponents,
  targets: string[],
  ns: string,
  id: string,
  extra: Extra,
): Promise<Push | undefined> {
  for (let i = 0; i < targets.length - 1; i++) {
    const push = await openPush(c, targets[i]!, ns, id, extra, targets.slice(i + 1));
    if (push) return push;
  }
  return undefined;
}

/**
 * After the local write: tell the replica the digest and wait for its acknowledgement. Resolves
 * with the peers whose copy is durable (a chain's ack names them; a fan-out push is its peer).
 */
export async function commitPush(
  c: StoreComponents,
  push: Push,
  written: { size: number; digest: string },
): Promise<string[]> {
  try {
    await push.sent.catch(() => {});
    if (push.error) throw push.error;
    const commit: StoreCommit = { type: 'store-commit', reqId: push.reply.reqId, ...written };
    await c.rpc.send(push.peerId, commit);
    // each hop of a chain waits for the one below it before it answers
    const { msg } = await push.reply.answer(
      'store-ack',
      c.config.ackTimeoutMs * (push.chain.length + 1),
    );
    const named = [push.peerId, ...push.chain];
    // an ack without `copies` (fan-out, or a chain head too old to forward) speaks for its peer
    const copies = msg.copies
      ? msg.copies.filter((p) => named.includes(p))
      : msg.ok
        ? [push.peerId]
        : [];
    if (copies.length === 0) {
      throw new FileServerError(msg.code ?? CODES.PROTOCOL, 'peer refused the replica');
    }
    c.metrics.replicasAcked.inc(copies.length);
    c.metrics.transferDuration.observe({ op: 'push' }, (performance.now() - push.started) / 1000);
    return copies;
  } finally {
    push.reply.cancel();
  }
}

/** commitPush that counts and logs a failure instead of throwing: the copies made, maybe none. */
export function settlePush(
  c: StoreComponents,
  push: Push,
  written: { size: number; digest: string },
): Promise<string[]> {
  return commitPush(c, push, written).catch((err) => {
    c.metrics.replicaFailures.inc();
    c.log.warn({ peer: push.peerId, code: errorCode(err), err }, 'replica write failed');
    return [];
  });
}

/**
 * A chain that made fewer copies than it was asked for (a hop failed, froze or kept a corrupt
 * copy): the missing ones are sent directly from the local copy, each as a fan-out push, to the
 * targets still linked and, in place of targets gone or failing, to the next peers in placement
 * order (`skip`: peers that failed this put already, such as a chain head that froze).
 */
export async function fillFromLocal(
  c: StoreComponents,
  ns: string,
  id: string,
  extra: Extra,
  targets: string[],
  have: string[],
  skip: string[],
  written: { size: number; digest: string },
): Promise<string[]> {
  const missing = targets.length - have.length;
  if (missing <= 0) return [];
  const linked = new Set(c.peerIds());
  const tried = new Set([...have, ...skip]);
  const stillThere = targets.filter((p) => !tried.has(p) && linked.has(p));
  const spares = rankNodes(id, [...linked]).filter((p) => !tried.has(p) && !targets.includes(p));
  const queue = [...stillThere, ...spares];
  c.log.info(
    { id, peers: Math.min(missing, queue.length), missing },
    'chain short of copies: sending from the local copy',
  );
  // one worker per missing copy; a peer that fails (a tail the chain dropped, frozen) hands its
  // turn to the next candidate in placement order
  const made: string[] = [];
  const worker = async () => {
    for (let peerId = queue.shift(); peerId !== undefined; peerId = queue.shift()) {
      const got = await sendFromLocal(c, peerId, ns, id, extra, written);
      if (got.length > 0) {
        made.push(...got);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: missing }, worker));
  return made;
}

/** One fan-out push read from the committed local copy; the copies it made ([] or the peer). */
async function sendFromLocal(
  c: StoreComponents,
  peerId: string,
  ns: string,
  id: string,
  extra: Extra,
  written: { size: number; digest: string },
): Promise<string[]> {
  // from the disk at its pace: a peer that takes nothing for the stall timeout is frozen
  const push = await openPush(c, peerId, ns, id, extra, [], c.config.stallTimeoutMs);
  if (!push) return [];
  try {
    const { stream } = await c.cas.read(ns, id);
    await pipeline(stream, push.input).catch((err) => {
      if (!push.error) push.error = err;
    });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    push.input.destroy(e);
    if (!push.error) push.error = e;
  }
  return settlePush(c, push, written);
}
