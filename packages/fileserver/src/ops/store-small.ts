// Storing a small file: its plaintext is read whole (it ended within SMALL_FILE_MAX bytes),
// sealed in memory and sent to each replica peer in one store-small message beside the local
// write; each replica keeps it once the store-commit that follows the local write names its digest.

import type { Readable } from 'node:stream';
import { sealBytes } from '@peerstash/crypto';
import { AbortedError, CODES, errorCode, FileServerError, TimeoutError } from '../errors.js';
import { abortError } from '../lifecycle.js';
import type { Extra, StoreCommit, StoreSmall } from '../messages.js';
import { newReqId, type PendingReply } from '../net/peer-rpc.js';
import type { StoreComponents } from './store-components.js';

/**
 * Plaintext bytes up to which a put is taken whole: no stream to any replica, one message each
 * (its sealed size stays far under MAX_SMALL_SEALED and the transport's message limit).
 */
export const SMALL_FILE_MAX = 64 * 1024;

export interface Head {
  chunks: Buffer[];
  bytes: number;
  /** The source ended within `max` bytes: `chunks` are the whole file. */
  ended: boolean;
}

/**
 * Reads `input` until it ends or more than `max` bytes came. When it did not end, the bytes read
 * are put back (unshift) so the stream reads from its start again for the streaming put.
 */
export function readHead(
  input: Readable,
  max: number,
  idleMs: number,
  signal?: AbortSignal,
): Promise<Head> {
  return new Promise<Head>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const idle =
      idleMs > 0
        ? setTimeout(() => {
            const err = new TimeoutError(`upload: no data for ${idleMs} ms`);
            input.destroy(err);
            finish(false, err);
          }, idleMs)
        : undefined;
    idle?.unref();
    let settled = false;
    const finish = (ended: boolean, err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      input.off('readable', onReadable);
      input.off('end', onEnd);
      // the 'error' listener stays (a no-op once settled): a stream given up on here may still be
      // destroyed with an error (the HTTP route forwards its request's), which must not go unheard
      input.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else if (!ended) {
        if (bytes > 0) input.unshift(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        resolve({ chunks: [], bytes: 0, ended: false });
      } else resolve({ chunks, bytes, ended: true });
    };
    const onReadable = () => {
      idle?.refresh();
      while (bytes <= max) {
        const c = input.read() as Buffer | null;
        if (c === null) break;
        chunks.push(c);
        bytes += c.length;
      }
      if (bytes > max) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: unknown) => finish(false, err);
    const onClose = () => {
      if (!input.readableEnded) finish(false, new AbortedError('the source closed early'));
    };
    const onAbort = () => finish(false, abortError(signal!));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
    input.once('close', onClose);
  });
}

/** A small replica sent to one peer: the reply its store-commit is answered on. */
export interface SmallPush {
  peerId: string;
  reply: PendingReply;
  started: number;
  sent: Promise<void>;
}

/** Sends the sealed replica whole to `peerId` (store-small); the commit follows the local write. */
export function sendSmall(
  c: StoreComponents,
  peerId: string,
  ns: string,
  id: string,
  extra: Extra,
  data: Buffer,
): SmallPush {
  const reply = c.rpc.expectReply(peerId, newReqId());
  const msg: StoreSmall = { type: 'store-small', reqId: reply.reqId, ns, id, extra, data };
  const sent = c.rpc
    .send(peerId, msg)
    .then(() => c.metrics.bytesOut.inc({ via: 'peer' }, data.length));
  sent.catch(() => {});
  return { peerId, reply, started: performance.now(), sent };
}

/** The local write failed: each replica drops what it was sent (and needs no answer). */
export function abortSmall(c: StoreComponents, pushes: readonly SmallPush[]): void {
  for (const p of pushes) {
    p.reply.cancel();
    c.rpc.send(p.peerId, { type: 'store-abort', reqId: p.reply.reqId }).catch(() => {});
  }
}

/** After the local write: the digest to the replica, then its acknowledgement. */
export async function commitSmall(
  c: StoreComponents,
  push: SmallPush,
  written: { size: number; digest: string },
): Promise<void> {
  try {
    await push.sent;
    const commit: StoreCommit = { type: 'store-commit', reqId: push.reply.reqId, ...written };
    await c.rpc.send(push.peerId, commit);
    const { msg } = await push.reply.answer('store-ack', c.config.ackTimeoutMs);
    if (!msg.ok) throw new FileServerError(msg.code ?? CODES.PROTOCOL, 'peer refused the replica');
    c.metrics.replicasAcked.inc();
    c.metrics.transferDuration.observe({ op: 'push' }, (performance.now() - push.started) / 1000);
  } catch (err) {
    c.metrics.replicaFailures.inc();
    c.log.warn({ peer: push.peerId, code: errorCode(err), err }, 'replica write failed');
    throw err;
  } finally {
    push.reply.cancel();
  }
}

/** Seals a whole small plaintext (the PSB1 format seal() streams, in one buffer). */
export function sealSmall(vaultKey: Uint8Array, head: Head, chunkSize: number): Buffer {
  const plain = head.chunks.length === 1 ? head.chunks[0]! : Buffer.concat(head.chunks);
  return sealBytes(vaultKey, plain, { chunkSize });
}
