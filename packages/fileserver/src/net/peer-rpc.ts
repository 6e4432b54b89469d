// Peer messaging of the node: dispatch of incoming messages and streams to handlers registered by
// type, and requests to a peer (request ids, send, wait, deadline, cancel) written once.

import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { encodeMessage } from '@peerstash/transport-tcp';
import { errorCode, ProtocolError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type PeerMessage,
  parseMessage,
  parseStreamHeader,
  type StreamHeader,
} from '../messages.js';
import { Replies, type Reply, type Waiter } from './replies.js';

/** What peer-rpc needs of the transport: sending, opening streams and its two events. */
export interface RpcTransport {
  send(peerId: string, msg: { type: string }, options?: { signal?: AbortSignal }): Promise<void>;
  openStream(
    peerId: string,
    header: Record<string, unknown>,
    options?: { signal?: AbortSignal },
  ): Promise<Writable>;
  on(event: 'message', fn: (peerId: string, msg: unknown) => void): unknown;
  on(event: 'stream', fn: (peerId: string, header: unknown, stream: Readable) => void): unknown;
  /** A duplicate-link swap: what was in flight on the old link may be lost. */
  on(event: 'peer:relink', fn: (peer: { id: string }) => void): unknown;
}

type MessageOf<T> = Extract<PeerMessage, { type: T }>;
type HeaderOf<T> = Extract<StreamHeader, { type: T }>;
type Type = PeerMessage['type'] | StreamHeader['type'];

/** A reply whose type is `T`: a message, a stream, or either when the type comes as both. */
export type ReplyOf<T extends Type> =
  | ([MessageOf<T>] extends [never] ? never : { kind: 'message'; msg: MessageOf<T> })
  | ([HeaderOf<T>] extends [never]
      ? never
      : { kind: 'stream'; header: HeaderOf<T>; stream: Readable });

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message that asks for an answer, without its request id (request() adds one). */
export type RequestBody = DistributiveOmit<Extract<PeerMessage, { reqId: string }>, 'reqId'>;

export interface RequestOptions<T extends Type> {
  /** The answer's type; anything else is ERR_PROTOCOL. */
  expect: T;
  /** Deadline for the answer, from the moment the request went out. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Told the encoded size of the request and of a message answer (repair counts its bytes). */
  countBytes?: (n: number) => void;
}

/** A request answered later (a stream whose end the peer acknowledges): arm and await. */
export interface PendingReply {
  reqId: string;
  /** Starts the deadline and waits for an answer of type `expect` (or of one of several). */
  answer<T extends Type>(expect: T | readonly T[], timeoutMs: number): Promise<ReplyOf<T>>;
  cancel(): void;
}

type MessageHandler = (peerId: string, msg: never) => Promise<void> | void;
type StreamHandler = (peerId: string, header: never, stream: Readable) => Promise<void> | void;

/**
 * Whether a relink may send a request again. Every request is a query or an idempotent merge but
 * a delete from a node that sends no time (before 2026-12-04): a second one arriving after a newer
 * put of the key would remove that put's copy, so it waits out its deadline instead. A delete with
 * its time (`deletedAt`) only takes versions older than it, so it is safe to send twice.
 */
function resendable(msg: PeerMessage): boolean {
  return msg.type !== 'delete' || msg.deletedAt !== undefined;
}

export function newReqId(): string {
  return randomBytes(9).toString('base64url');
}

/** The reply as the type asked for; another type is ERR_PROTOCOL. */
function checked<T extends Type>(reply: Reply, expect: T | readonly T[]): ReplyOf<T> {
  const type = reply.kind === 'message' ? reply.msg.type : reply.header.type;
  const ok = typeof expect === 'string' ? type === expect : expect.includes(type as T);
  if (!ok) {
    if (reply.kind === 'stream') reply.stream.destroy();
    throw new ProtocolError(`expected a ${String(expect)}`);
  }
  return reply as ReplyOf<T>;
}

export class PeerRpc {
  readonly #transport: RpcTransport;
  readonly #log: Logger;
  readonly #live: () => boolean;
  readonly #replies = new Replies();
  readonly #onMessage = new Map<string, MessageHandler>();
  readonly #onStream = new Map<string, StreamHandler>();
  readonly #answers = new Set<string>();
  readonly #onHeard: Array<(peerId: string) => void> = [];
  /** Requests sent and not yet answered, by peer then request id: resent after a relink. */
  readonly #inFlight = new Map<string, Map<string, PeerMessage>>();

  /** `live`: whether the node takes peer traffic now (false before start and once stopping). */
  constructor(transport: RpcTransport, log: Logger, live: () => boolean) {
    this.#transport = transport;
    this.#log = log;
    this.#live = live;
    transport.on('message', (peerId, msg) => this.dispatchMessage(peerId, msg));
    transport.on('stream', (peerId, header, stream) => this.dispatchStream(peerId, header, stream));
    transport.on('peer:relink', (peer) => this.#resend(peer.id));
  }

  /**
   * Sends again every request still waiting on `peerId` (but an untimed delete), with its id: the
   * request or its answer may have been on the link a duplicate replaced (a second answer finds
   * nobody waiting), so it need not wait out its deadline.
   */
  #resend(peerId: string): void {
    const waiting = this.#inFlight.get(peerId);
    if (!waiting?.size) return;
    this.#log.debug({ peer: peerId, requests: waiting.size }, 'link swapped: resending requests');
    for (const msg of waiting.values()) {
      if (!resendable(msg)) continue;
      this.#transport.send(peerId, msg).catch((err: unknown) => {
        this.#log.debug({ peer: peerId, code: errorCode(err) }, 'resend after a relink failed');
      });
    }
  }

  /** Runs `fn` for every message of `type` (each on its own: nothing waits for a transfer). */
  handle<T extends PeerMessage['type']>(
    type: T,
    fn: (peerId: string, msg: MessageOf<T>) => Promise<void> | void,
  ): void {
    this.#onMessage.set(type, fn as MessageHandler);
  }

  /** Runs `fn` for every stream a peer opens with a header of `type`. */
  handleStream<T extends StreamHeader['type']>(
    type: T,
    fn: (peerId: string, header: HeaderOf<T>, stream: Readable) => Promise<void> | void,
  ): void {
    this.#onStream.set(type, fn as StreamHandler);
  }

  /** Calls `fn` for every valid message or stream header a peer sends (what a HELLO alone never is). */
  onHeard(fn: (peerId: string) => void): void {
    this.#onHeard.push(fn);
  }

  #heard(peerId: string): void {
    for (const fn of this.#onHeard) {
      try {
        fn(peerId);
      } catch (err) {
        this.#log.warn({ peer: peerId, err }, 'heard listener failed');
      }
    }
  }

  /** Messages and streams of these types answer a request (matched by peer and request id). */
  answers(...types: Type[]): void {
    for (const t of types) this.#answers.add(t);
  }

  send(peerId: string, msg: PeerMessage): Promise<void> {
    return this.#transport.send(peerId, msg);
  }

  openStream(peerId: string, header: StreamHeader): Promise<Writable> {
    return this.#transport.openStream(peerId, header);
  }

  /** Sends `body` with a fresh request id and resolves with the answer of type `expect`. */
  async request<T extends Type>(
    peerId: string,
    body: RequestBody,
    { expect, timeoutMs, signal, countBytes }: RequestOptions<T>,
  ): Promise<ReplyOf<T>> {
    const reqId = newReqId();
    const waiter = this.#replies.wait(peerId, reqId, signal);
    waiter.arm(timeoutMs);
    const waiting = this.#inFlight.get(peerId) ?? new Map<string, PeerMessage>();
    this.#inFlight.set(peerId, waiting);
    try {
      const msg = { ...body, reqId } as PeerMessage;
      countBytes?.(encodeMessage(msg).length);
      waiting.set(reqId, msg);
      await this.#transport.send(peerId, msg);
      const reply = checked(await waiter.promise, expect);
      if (countBytes && reply.kind === 'message') countBytes(encodeMessage(reply.msg).length);
      return reply;
    } finally {
      waiter.cancel();
      waiting.delete(reqId);
      if (waiting.size === 0 && this.#inFlight.get(peerId) === waiting)
        this.#inFlight.delete(peerId);
    }
  }

  /**
   * Waits for the answer to `reqId` from `peerId`, registered before the request goes out (a
   * stream whose acknowledgement comes after its end, or a peer's commit after its offer).
   */
  expectReply(peerId: string, reqId: string, signal?: AbortSignal): PendingReply {
    const waiter: Waiter = this.#replies.wait(peerId, reqId, signal);
    return {
      reqId,
      answer: async <T extends Type>(expect: T | readonly T[], timeoutMs: number) => {
        waiter.arm(timeoutMs);
        return checked(await waiter.promise, expect);
      },
      cancel: () => waiter.cancel(),
    };
  }

  /** A peer went away: its pending requests fail now rather than at their deadlines. */
  failPeer(peerId: string, err: Error): void {
    this.#replies.failPeer(peerId, err);
  }

  /** Stopping: every pending request fails with `err`. */
  failAll(err: Error): void {
    this.#replies.failAll(err);
  }

  /** Requests waiting for an answer now. */
  get pending(): number {
    return this.#replies.size;
  }

  dispatchMessage(peerId: string, raw: unknown): void {
    if (!this.#live()) return;
    let msg: PeerMessage;
    try {
      msg = parseMessage(raw);
    } catch (err) {
      this.#log.warn({ peer: peerId, code: errorCode(err), err }, 'dropped a bad message');
      return;
    }
    this.#heard(peerId);
    if (this.#answers.has(msg.type) && 'reqId' in msg) {
      this.#replies.settle(peerId, msg.reqId, { kind: 'message', msg });
      return;
    }
    const fn = this.#onMessage.get(msg.type);
    if (!fn) {
      this.#log.debug({ peer: peerId, type: msg.type }, 'no handler for a message');
      return;
    }
    this.#run(peerId, msg.type, () => fn(peerId, msg as never));
  }

  dispatchStream(peerId: string, raw: unknown, stream: Readable): void {
    if (!this.#live()) {
      stream.destroy();
      return;
    }
    let header: StreamHeader;
    try {
      header = parseStreamHeader(raw);
    } catch (err) {
      this.#log.warn({ peer: peerId, code: errorCode(err) }, 'refused a stream with a bad header');
      stream.destroy();
      return;
    }
    this.#heard(peerId);
    const fn = this.#onStream.get(header.type);
    if (fn) {
      this.#run(peerId, header.type, () => fn(peerId, header as never, stream));
      return;
    }
    if (
      !this.#answers.has(header.type) ||
      !this.#replies.settle(peerId, header.reqId, { kind: 'stream', header, stream })
    ) {
      // an answer nobody waits for any more (timed out, or already served by another peer)
      stream.destroy();
    }
  }

  #run(peerId: string, type: string, fn: () => Promise<void> | void): void {
    try {
      Promise.resolve(fn()).catch((err) =>
        this.#log.warn({ peer: peerId, type, err }, 'handler failed'),
      );
    } catch (err) {
      this.#log.warn({ peer: peerId, type, err }, 'handler failed');
    }
  }
}
