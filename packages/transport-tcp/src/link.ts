// One connection to one peer after its secure channel is up: HELLO exchange, frame dispatch,
// stream tables, keep-alive, and the one close path that settles every stream on it.

import type { Socket } from 'node:net';
import {
  AuthError,
  ClosedError,
  errorFromCode,
  LimitError,
  NotConnectedError,
  ProtocolError,
  TimeoutError,
  TransportError,
} from './errors.js';
import {
  encodeFrame,
  encodeHeader,
  FRAME_HEADER_SIZE,
  type Frame,
  FrameType,
  type FrameTypeValue,
  MAX_CONTROL_PAYLOAD,
} from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { encodeHello, type Hello, parseHello } from './hello.js';
import type { TransportLimits } from './limits.js';
import type { Logger } from './logger.js';
import { decodeCbor, decodeMessage, encodeCbor, type Message } from './message-codec.js';
import { InboundStream, OutboundStream, type StreamLink } from './stream.js';

export interface LinkHandlers {
  onMessage(msg: Message): void;
  /** Returns false when nobody takes the stream; it is then reset. */
  onStream(header: Record<string, unknown>, stream: InboundStream): boolean;
  onClose(err: Error): void;
  /** Called once the link is open, before any frame after the HELLO is handled. */
  onOpen(): void;
}

export interface LinkOptions {
  outbound: boolean;
  limits: TransportLimits;
  logger: Logger;
  local: Hello;
  /** Handshake deadline / transport shutdown. */
  signal: AbortSignal;
  /** Decides whether the link is accepted; throws to refuse it (the error goes out as GOAWAY). */
  onHello(link: Link, hello: Hello): LinkHandlers;
}

const resolved = Promise.resolve();
const PONG_BACKLOG_LIMIT = 1024 * 1024;
const WRITE_BACKLOG_LIMIT = 128 * 1024 * 1024;
const TLS_RECORD_TYPES = new Set([0x14, 0x15, 0x16, 0x17]);
const HANDSHAKE_BUFFER_LIMIT = FRAME_HEADER_SIZE + MAX_CONTROL_PAYLOAD;

function parseGoaway(payload: Buffer): TransportError {
  try {
    const g = decodeCbor(payload);
    const code = typeof g.code === 'string' ? g.code.slice(0, 64) : 'ERR_CLOSED';
    const reason = typeof g.reason === 'string' ? g.reason.slice(0, 512) : 'no reason given';
    return errorFromCode(code, `peer closed the link: ${reason}`);
  } catch {
    return new ProtocolError('peer closed the link with an unreadable GOAWAY');
  }
}

export class Link implements StreamLink {
  readonly socket: Socket;
  readonly outbound: boolean;
  readonly ready: Promise<Hello>;
  /** Settles when the socket is fully closed. */
  readonly closed: Promise<void>;
  remote: Hello | undefined;
  closeError: Error | undefined;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  private readonly opts: LinkOptions;
  private readonly decoder: FrameDecoder;
  private handlers: LinkHandlers | undefined;
  private readonly outStreams = new Map<number, OutboundStream>();
  private readonly inStreams = new Map<number, InboundStream>();
  private nextStreamId: number;
  private readonly remoteParity: number;
  private lastRemoteId = 0;
  private sawBytes = false;
  private lastRx = Date.now();
  private openedAt = 0;
  private lastPing = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  private drain: { promise: Promise<void>; reject: (err: Error) => void } | undefined;
  private settleReady!: { resolve: (h: Hello) => void; reject: (err: Error) => void };

  constructor(socket: Socket, opts: LinkOptions) {
    this.socket = socket;
    this.opts = opts;
    this.outbound = opts.outbound;
    // Dialers open odd stream ids, acceptors even ones, so ids never collide.
    this.nextStreamId = opts.outbound ? 1 : 2;
    this.remoteParity = opts.outbound ? 0 : 1;
    this.decoder = new FrameDecoder({
      maxFrameSize: opts.limits.maxFrameSize,
      maxMessageSize: opts.limits.maxMessageSize,
    });
    this.ready = new Promise<Hello>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => {});
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) =>
      this.close(new ClosedError(`connection lost: ${err.message}`, { cause: err }), false),
    );
    socket.on('end', () => this.close(this.lostError('peer closed the connection'), false));
    socket.on('close', () => this.close(this.lostError('connection closed'), false));
    const onAbort = () => {
      if (this.state === 'handshake') {
        const reason = opts.signal.reason;
        this.close(reason instanceof Error ? reason : new TimeoutError('handshake timed out'));
      }
    };
    if (opts.signal.aborted) queueMicrotask(onAbort);
    else {
      opts.signal.addEventListener('abort', onAbort, { once: true });
      this.ready.then(
        () => opts.signal.removeEventListener('abort', onAbort),
        () => opts.signal.removeEventListener('abort', onAbort),
      );
    }

    const l = opts.local;
    this.writeControl(FrameType.HELLO, 0, encodeHello(l));
  }

  get local(): Hello {
    return this.opts.local;
  }

  /**
   * A peerstash node sends its HELLO as soon as its side is secured, so a plain socket closed
   * before a single byte arrived was refused by a node that expects TLS.
   */
  private lostError(message: string): Error {
    if (
      this.state === 'handshake' &&
      !this.sawBytes &&
      (this.socket as { encrypted?: boolean }).encrypted !== true
    ) {
      return new AuthError(
        'peer closed the connection before its HELLO: it probably requires a cluster secret (TLS)',
      );
    }
    return new ClosedError(message);
  }

  private get isLive(): boolean {
    return this.state !== 'closed';
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get remoteAddress(): string {
    const s = this.socket;
    return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unknown';
  }

  // ---- receiving ----

  private onBytes(chunk: Buffer): void {
    this.lastRx = Date.now();
    if (this.state === 'closed') return;
    if (!this.sawBytes) {
      this.sawBytes = true;
      if (TLS_RECORD_TYPES.has(chunk[0]!)) {
        this.close(
          new AuthError('peer speaks TLS: a cluster secret is set on its side but not on this one'),
        );
        return;
      }
    }
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.close(err as Error);
      return;
    }
    for (const frame of frames) {
      // A handler above may have closed the link.
      if (!this.isLive) return;
      try {
        if (this.state === 'handshake') this.onHandshakeFrame(frame);
        else this.onFrame(frame);
      } catch (err) {
        this.close(
          err instanceof TransportError
            ? err
            : new ProtocolError('frame handling failed', { cause: err }),
        );
        return;
      }
    }
    // Before its HELLO a peer may send only HELLO or GOAWAY (≤ 4 KiB each). Refuse a bigger frame
    // in progress now: otherwise each of maxPendingHandshakes unauthenticated sockets could make
    // the decoder hold up to maxMessageSize until the handshake timer fires.
    if (this.state === 'handshake' && this.decoder.bufferedBytes > HANDSHAKE_BUFFER_LIMIT) {
      this.close(new ProtocolError('a frame other than HELLO before the handshake'));
    }
  }

  private onHandshakeFrame(frame: Frame): void {
    if (frame.type === FrameType.GOAWAY) {
      this.close(parseGoaway(frame.payload), false);
      return;
    }
    if (frame.type !== FrameType.HELLO) {
      throw new ProtocolError(`expected HELLO, got frame type ${frame.type}`);
    }
    const hello = parseHello(frame.payload);
    this.remote = hello;
    const handlers = this.opts.onHello(this, hello);
    this.handlers = handlers;
    this.state = 'open';
    this.openedAt = Date.now();
    this.startKeepAlive();
    this.settleReady.resolve(hello);
    handlers.onOpen();
  }

  private onFrame(frame: Frame): void {
    const { type, streamId: id, payload } = frame;
    switch (type) {
      case FrameType.DATA: {
        const s = this.inStreams.get(id);
        if (s) s.onData(payload);
        else this.checkStale(id, true, 'DATA');
        return;
      }
      case FrameType.WINDOW: {
        const s = this.outStreams.get(id);
        if (s) s.onWindow(payload.readUInt32BE(0));
        else this.checkStale(id, false, 'WINDOW');
        return;
      }
      case FrameType.MSG:
        this.handlers!.onMessage(decodeMessage(payload));
        return;
      case FrameType.OPEN:
        this.onOpen(id, payload);
        return;
      case FrameType.END: {
        const s = this.inStreams.get(id);
        if (s) s.onEnd();
        else this.checkStale(id, true, 'END');
        return;
      }
      case FrameType.RESET: {
        const code = payload.toString('latin1');
        if (!/^[A-Z0-9_]{1,64}$/.test(code)) throw new ProtocolError('RESET with a malformed code');
        if (id % 2 === this.remoteParity) {
          const s = this.inStreams.get(id);
          if (s) s.onReset(code);
          else this.checkStale(id, true, 'RESET');
        } else {
          const s = this.outStreams.get(id);
          if (s) s.onReset(code);
          else this.checkStale(id, false, 'RESET');
        }
        return;
      }
      case FrameType.PING:
        // While our side is backlogged the peer is receiving our bytes anyway, which keeps it
        // from timing us out; skipping the PONG keeps a ping flood from growing our buffer.
        if (this.socket.writableLength < PONG_BACKLOG_LIMIT) {
          this.writeControl(FrameType.PONG, 0, payload);
        }
        return;
      case FrameType.PONG:
        return;
      case FrameType.GOAWAY:
        this.close(parseGoaway(payload), false);
        return;
      default:
        throw new ProtocolError(`unexpected frame type ${type} after the handshake`);
    }
  }

  /** A frame for a stream that is not open: fine if the stream existed (a race with its close). */
  private checkStale(id: number, remoteOpened: boolean, what: string): void {
    const ok = remoteOpened
      ? id % 2 === this.remoteParity && id <= this.lastRemoteId
      : id % 2 !== this.remoteParity && id < this.nextStreamId;
    if (!ok) throw new ProtocolError(`${what} for stream ${id}, which was never opened`);
  }

  private onOpen(id: number, payload: Buffer): void {
    if (id % 2 !== this.remoteParity || id <= this.lastRemoteId) {
      throw new ProtocolError(`OPEN with a bad stream id ${id}`);
    }
    if (this.inStreams.size >= this.opts.limits.maxStreamsPerPeer) {
      throw new ProtocolError(
        `peer opened more than ${this.opts.limits.maxStreamsPerPeer} streams`,
      );
    }
    const header = decodeCbor(payload);
    this.lastRemoteId = id;
    const stream = new InboundStream(this, id, this.opts.limits.streamWindow);
    this.inStreams.set(id, stream);
    if (!this.handlers!.onStream(header, stream)) {
      stream.destroy(new TransportError('ERR_NO_HANDLER', 'no stream listener on this node'));
    }
  }

  // ---- sending ----

  private assertOpen(): void {
    if (this.state !== 'open') throw this.closeError ?? new NotConnectedError('link is not open');
  }

  private writeControl(type: FrameTypeValue, id: number, payload?: Uint8Array): void {
    // Control frames answer the peer's frames; a peer that sends but never reads would otherwise
    // grow this buffer without end.
    if (this.socket.writableLength > WRITE_BACKLOG_LIMIT && this.state !== 'closed') {
      this.close(new ProtocolError('peer does not read what it is sent'), false);
      return;
    }
    this.socket.write(encodeFrame(type, id, payload));
  }

  sendMessage(encoded: Buffer): void {
    this.assertOpen();
    this.writeFrame(FrameType.MSG, 0, encoded);
  }

  private writeFrame(type: FrameTypeValue, id: number, payload: Uint8Array): void {
    const s = this.socket;
    if (payload.byteLength < 1024) {
      s.write(encodeFrame(type, id, payload));
      return;
    }
    // Two buffers in one writev: the payload is never copied into a frame buffer.
    s.cork();
    s.write(encodeHeader(type, id, payload.byteLength));
    s.write(payload);
    s.uncork();
  }

  sendData(streamId: number, parts: Uint8Array[], length: number): void {
    this.assertOpen();
    const s = this.socket;
    s.cork();
    s.write(encodeHeader(FrameType.DATA, streamId, length));
    for (const part of parts) s.write(part);
    s.uncork();
  }

  sendEnd(streamId: number): void {
    this.assertOpen();
    this.writeControl(FrameType.END, streamId);
  }

  sendReset(streamId: number, code: string): void {
    this.assertOpen();
    this.writeControl(FrameType.RESET, streamId, Buffer.from(code, 'latin1'));
  }

  sendWindow(streamId: number, credit: number): void {
    this.assertOpen();
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(credit, 0);
    this.writeControl(FrameType.WINDOW, streamId, p);
  }

  writable(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closeError);
    if (!this.socket.writableNeedDrain) return resolved;
    if (!this.drain) {
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        reject = rej;
        this.socket.once('drain', () => {
          this.drain = undefined;
          res();
        });
      });
      promise.catch(() => {});
      this.drain = { promise, reject };
    }
    return this.drain.promise;
  }

  forget(streamId: number, inbound: boolean): void {
    if (inbound) this.inStreams.delete(streamId);
    else this.outStreams.delete(streamId);
  }

  fail(err: Error): void {
    this.close(err);
  }

  openStream(header: Record<string, unknown>): OutboundStream {
    this.assertOpen();
    const remote = this.remote!;
    if (this.outStreams.size >= remote.maxStreams) {
      throw new LimitError(`peer accepts at most ${remote.maxStreams} streams at once`);
    }
    const encoded = encodeCbor(header);
    if (encoded.byteLength > this.opts.limits.maxMessageSize) {
      throw new LimitError('stream header larger than maxMessageSize');
    }
    const id = this.nextStreamId;
    if (id > 0xffff_fff0) throw new LimitError('stream ids exhausted on this link');
    this.nextStreamId += 2;
    const stream = new OutboundStream(this, id, remote.window, remote.maxFrame);
    this.outStreams.set(id, stream);
    this.writeFrame(FrameType.OPEN, id, encoded);
    return stream;
  }

  /**
   * In use and alive, so a second link to the same node must not replace it: it carries streams,
   * or has been open longer than a handshake may take (a duplicate from a simultaneous dial has
   * finished its HELLO by then), and its peer was heard from within two ping intervals.
   */
  get isEstablished(): boolean {
    if (this.state !== 'open') return false;
    const { handshakeTimeoutMs, pingIntervalMs, idleTimeoutMs } = this.opts.limits;
    const now = Date.now();
    if (now - this.lastRx >= Math.min(idleTimeoutMs, 2 * pingIntervalMs)) return false;
    const carrying = this.inStreams.size + this.outStreams.size > 0;
    return carrying || now - this.openedAt >= handshakeTimeoutMs;
  }

  /** Open streams, for tests and status. */
  get streamCounts(): { inbound: number; outbound: number } {
    return { inbound: this.inStreams.size, outbound: this.outStreams.size };
  }

  // ---- keep-alive and close ----

  private startKeepAlive(): void {
    const { pingIntervalMs, idleTimeoutMs } = this.opts.limits;
    const tick = Math.max(20, Math.floor(Math.min(pingIntervalMs, idleTimeoutMs) / 2));
    this.keepAlive = setInterval(() => {
      const now = Date.now();
      const quiet = now - this.lastRx;
      if (quiet >= idleTimeoutMs) {
        this.close(new TimeoutError(`no frame from the peer for ${quiet} ms`));
      } else if (quiet >= pingIntervalMs && now - this.lastPing >= pingIntervalMs) {
        this.lastPing = now;
        const p = Buffer.allocUnsafe(8);
        p.writeDoubleBE(now, 0);
        this.writeControl(FrameType.PING, 0, p);
      }
    }, tick);
    this.keepAlive.unref();
  }

  /** Closes the link once; `goaway` tells the peer why before the socket ends. */
  close(err: Error, goaway = true): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.closeError = err;
    if (this.keepAlive) clearInterval(this.keepAlive);
    const s = this.socket;
    if (goaway && s.writable) {
      const code = err instanceof TransportError ? err.code : 'ERR_PROTOCOL';
      try {
        this.writeControl(
          FrameType.GOAWAY,
          0,
          encodeCbor({ code, reason: err.message.slice(0, 200) }),
        );
      } catch {
        // Socket already failing; the close below still happens.
      }
    }
    s.end();
    // A peer that never closes its side must not keep the socket (or this process) alive.
    setTimeout(() => s.destroy(), 2000).unref();
    this.drain?.reject(err);
    this.drain = undefined;
    for (const st of [...this.inStreams.values()]) st.onLinkClosed(err);
    for (const st of [...this.outStreams.values()]) st.onLinkClosed(err);
    this.inStreams.clear();
    this.outStreams.clear();
    this.settleReady.reject(err);
    if (wasOpen) this.handlers!.onClose(err);
  }
}
