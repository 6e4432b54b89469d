// The table of requests waiting for a peer's answer (acks, get responses, commits), keyed by
// peer and request id, each with its own deadline, abort signal and one cleanup path.

import type { Readable } from 'node:stream';
import { AbortedError, TimeoutError } from '../errors.js';
import type { PeerMessage, StreamHeader } from '../messages.js';

export type Reply =
  | { kind: 'message'; msg: PeerMessage }
  | { kind: 'stream'; header: StreamHeader; stream: Readable };

export interface Waiter {
  promise: Promise<Reply>;
  /** Starts (or restarts) the deadline for the reply. */
  arm(ms: number): void;
  cancel(): void;
}

interface Pending {
  peerId: string;
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export class Replies {
  readonly #pending = new Map<string, Pending>();

  get size(): number {
    return this.#pending.size;
  }

  /** Registers interest in the answer to `reqId` from `peerId` (before sending the request). */
  wait(peerId: string, reqId: string, signal?: AbortSignal): Waiter {
    // keyed by peer too: request ids chosen by a peer must never displace this node's own
    const slot = `${peerId}/${reqId}`;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    let onAbort: (() => void) | undefined;
    const cleanup = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      if (this.#pending.get(slot) === pending) this.#pending.delete(slot);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    };
    let resolveFn: (r: Reply) => void = () => {};
    let rejectFn: (err: Error) => void = () => {};
    const promise = new Promise<Reply>((resolve, reject) => {
      resolveFn = (r) => {
        if (settled) return;
        cleanup();
        resolve(r);
      };
      rejectFn = (err) => {
        if (settled) return;
        cleanup();
        reject(err);
      };
    });
    promise.catch(() => {});
    const pending: Pending = { peerId, resolve: resolveFn, reject: rejectFn };
    this.#pending.set(slot, pending);
    if (signal) {
      onAbort = () => rejectFn(new AbortedError(undefined, { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return {
      promise,
      arm: (ms) => {
        if (settled) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => rejectFn(new TimeoutError(`no answer from peer in ${ms} ms`)), ms);
      },
      cancel: () => {
        if (!settled) cleanup();
      },
    };
  }

  /** Delivers an answer; false when nobody waits for it (late, unknown or from another peer). */
  settle(peerId: string, reqId: string, reply: Reply): boolean {
    const p = this.#pending.get(`${peerId}/${reqId}`);
    if (!p) return false;
    p.resolve(reply);
    return true;
  }

  /** A peer went away: everything waiting on it fails now rather than at its deadline. */
  failPeer(peerId: string, err: Error): void {
    for (const p of [...this.#pending.values()]) if (p.peerId === peerId) p.reject(err);
  }

  failAll(err: Error): void {
    for (const p of [...this.#pending.values()]) p.reject(err);
  }
}
