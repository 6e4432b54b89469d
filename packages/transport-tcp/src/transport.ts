// TcpTransport: listens, dials, runs the secure channel and HELLO on every socket, keeps one
// link per peer (resolving self and duplicate links), and surfaces messages and streams as events.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { formatAddress, parseAddress } from './address.js';
import { type BackoffOptions, backoffDelay, resolveBackoff } from './backoff.js';
import {
  AbortedError,
  ClosedError,
  DuplicateConnectionError,
  InvalidArgumentError,
  LimitError,
  NotConnectedError,
  SelfConnectionError,
  TimeoutError,
  TransportError,
} from './errors.js';
import { type Hello, PROTOCOL_VERSION } from './hello.js';
import { resolveLimits, type TransportLimits } from './limits.js';
import { Link, type LinkHandlers } from './link.js';
import { type Logger, silentLogger } from './logger.js';
import { encodeMessage, type Message } from './message-codec.js';
import { isNodeId, isPeerAddress } from './peer-fields.js';
import { type HandshakeFunc, nopHandshake, tlsPskHandshake } from './secure-channel.js';

export interface PeerInfo {
  /** The peer's node id, from its HELLO. */
  id: string;
  /** The address the peer listens on, as it announced it (undefined if it does not listen). */
  listenAddr: string | undefined;
  /** The other end of this socket. */
  remoteAddr: string;
  /** True when this node dialed the link. */
  outbound: boolean;
}

export interface RejectedInfo {
  remoteAddr: string;
  outbound: boolean;
}

export interface TransportEvents {
  'peer:connect': [peer: PeerInfo];
  'peer:disconnect': [peer: PeerInfo, reason: Error];
  /**
   * A young link to a connected peer was swapped for a duplicate one (both sides dialed at once):
   * the peer stayed connected, but messages in flight on the old link may be lost — resend what
   * still waits for an answer.
   */
  'peer:relink': [peer: PeerInfo];
  /** A socket that failed its TLS or HELLO handshake (wrong secret, bad version, self, duplicate…). */
  'peer:rejected': [info: RejectedInfo, reason: Error];
  message: [peerId: string, message: Message];
  stream: [peerId: string, header: Record<string, unknown>, stream: Readable];
}

export interface TcpTransportOptions {
  /** 'host:port' to listen on; port 0 picks a free port. Default '127.0.0.1:0'. */
  listen?: string;
  nodeId: string;
  /** Cluster secret (≥ 16 bytes, 32 recommended): links run over TLS 1.2 PSK. */
  secret?: Uint8Array;
  /** Replaces the secure channel; default TLS-PSK with a secret, the no-op handshake without. */
  handshake?: HandshakeFunc;
  limits?: Partial<TransportLimits>;
  /** Redial timing for `connect()`. */
  backoff?: Partial<BackoffOptions>;
  logger?: Logger;
  /** Listen address announced to peers, when it differs from the bound one (NAT, 0.0.0.0). */
  advertise?: string;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

type Rank = [number, string];

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof TransportError
    ? signal.reason
    : new AbortedError('aborted', { cause: signal.reason });
}

/** Waits for `promise`, or rejects with ERR_ABORTED as soon as `signal` fires (the listener is always removed). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class TcpTransport extends EventEmitter<TransportEvents> {
  readonly nodeId: string;
  readonly limits: Readonly<TransportLimits>;
  private readonly listenAddr: string;
  private readonly advertise: string | undefined;
  private readonly handshake: HandshakeFunc;
  private readonly secured: boolean;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions;
  private server: net.Server | undefined;
  private boundAddr: string | undefined;
  private readonly links = new Map<string, Link>();
  private readonly infos = new WeakMap<Link, PeerInfo>();
  private readonly allLinks = new Set<Link>();
  private readonly pending = new Set<net.Socket>();
  private pendingInbound = 0;
  private readonly connecting = new Map<string, AbortController>();
  /** connect() loops waiting for a peer to drop (kept off the public emitter). */
  private readonly disconnectWaiters = new Map<string, Set<() => void>>();
  private readonly shutdown = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(options: TcpTransportOptions) {
    super();
    if (!isNodeId(options?.nodeId)) {
      throw new InvalidArgumentError('nodeId must be 64 lowercase hex characters (32 bytes)');
    }
    this.nodeId = options.nodeId;
    this.listenAddr = options.listen ?? '127.0.0.1:0';
    parseAddress(this.listenAddr);
    if (options.advertise !== undefined && !isPeerAddress(options.advertise)) {
      throw new InvalidArgumentError(
        `advertise "${String(options.advertise)}" is not a dialable host:port`,
      );
    }
    this.advertise = options.advertise;
    this.limits = Object.freeze(resolveLimits(options.limits));
    this.backoff = resolveBackoff(options.backoff);
    this.logger = options.logger ?? silentLogger;
    this.secured = options.secret !== undefined || options.handshake !== undefined;
    this.handshake =
      options.handshake ?? (options.secret ? tlsPskHandshake(options.secret) : nopHandshake);
  }

  /** The bound 'host:port' once listening. */
  get address(): string | undefined {
    return this.boundAddr;
  }

  async listen(): Promise<string> {
    if (this.closing) throw new ClosedError('transport closed');
    if (this.server) throw new InvalidArgumentError('already listening');
    const { host, port } = parseAddress(this.listenAddr);
    const server = net.createServer({ noDelay: true }, (raw) => this.onInbound(raw));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // A failed bind (EADDRINUSE, EACCES) leaves nothing listening: a later listen() may retry.
      this.server = undefined;
      throw err;
    }
    server.on('error', (err) => this.logger.error({ err }, 'listener error'));
    const bound = server.address() as net.AddressInfo;
    this.boundAddr = formatAddress(bound.address, bound.port);
    if (!this.secured) {
      this.logger.warn(
        { address: this.boundAddr },
        'no cluster secret: links are plain TCP, unauthenticated and unencrypted (development only)',
      );
    }
    this.logger.info({ address: this.boundAddr, nodeId: this.nodeId }, 'listening');
    return this.boundAddr;
  }

  peers(): PeerInfo[] {
    return [...this.links.values()].map((l) => this.infos.get(l)!);
  }

  /** One dial attempt: connect, secure, HELLO. Resolves with the peer (also when an existing link to it wins). */
  async dial(addr: string, options: SignalOptions = {}): Promise<PeerInfo> {
    if (this.closing) throw new ClosedError('transport closed');
    const { host, port } = parseAddress(addr);
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    const raw = net.connect({ host, port, noDelay: true });
    this.pending.add(raw);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            done(
              new TimeoutError(
                `no TCP connection to ${addr} in ${this.limits.handshakeTimeoutMs} ms`,
              ),
            ),
          this.limits.handshakeTimeoutMs,
        );
        const onAbort = () => done(abortError(signal!));
        const onShutdown = () => done(new ClosedError('transport closed'));
        const onError = (err: Error) =>
          done(new NotConnectedError(`cannot connect to ${addr}: ${err.message}`, { cause: err }));
        const done = (err?: Error) => {
          clearTimeout(timer);
          raw.off('connect', onConnect);
          raw.off('error', onError);
          signal?.removeEventListener('abort', onAbort);
          this.shutdown.signal.removeEventListener('abort', onShutdown);
          if (err) reject(err);
          else resolve();
        };
        const onConnect = () => done();
        raw.once('connect', onConnect);
        raw.once('error', onError);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      });
    } catch (err) {
      this.pending.delete(raw);
      raw.destroy();
      throw err;
    }
    const link = await this.runHandshake(raw, true, addr, signal);
    return this.infos.get(link)!;
  }

  /** Keeps a link to `addr`: dials, and redials with capped exponential backoff after failures and disconnects. */
  connect(addr: string): void {
    if (this.closing) throw new ClosedError('transport closed');
    parseAddress(addr);
    if (this.connecting.has(addr)) return;
    const ac = new AbortController();
    this.connecting.set(addr, ac);
    void this.connectLoop(addr, ac.signal).finally(() => {
      if (this.connecting.get(addr) === ac) this.connecting.delete(addr);
    });
  }

  /** Ends the redials `connect(addr)` started; a link they made stays open. */
  stopDialing(addr: string): void {
    const ac = this.connecting.get(addr);
    if (!ac) return;
    this.connecting.delete(addr);
    ac.abort(new AbortedError(`stopped dialing ${addr}`));
  }

  private async connectLoop(addr: string, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted && !this.closing) {
      try {
        const peer = await this.dial(addr, { signal });
        attempt = 0;
        await this.untilDisconnected(peer.id, signal);
      } catch (err) {
        if (signal.aborted || this.closing) return;
        const code = (err as TransportError).code;
        if (code === 'ERR_SELF_CONNECTION') {
          this.logger.info({ addr }, 'address is this node itself; not redialing');
          return;
        }
        this.logger.debug({ addr, code, attempt }, 'dial failed; will retry');
      }
      if (signal.aborted || this.closing) return;
      const delay = backoffDelay(attempt++, this.backoff);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private untilDisconnected(peerId: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.links.has(peerId)) return resolve();
      const waiters = this.disconnectWaiters.get(peerId) ?? new Set();
      this.disconnectWaiters.set(peerId, waiters);
      const done = () => {
        waiters.delete(done);
        if (waiters.size === 0 && this.disconnectWaiters.get(peerId) === waiters) {
          this.disconnectWaiters.delete(peerId);
        }
        signal.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async send(peerId: string, message: Message, options: SignalOptions = {}): Promise<void> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const link = this.openLink(peerId);
    const encoded = this.encode(message);
    link.sendMessage(encoded);
    await untilAborted(link.writable(), options.signal);
  }

  /** Sends to every connected peer; resolves with how many it was sent to. */
  async broadcast(message: Message, options: SignalOptions = {}): Promise<number> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const encoded = this.encode(message);
    const waits: Promise<void>[] = [];
    for (const link of this.links.values()) {
      if (!link.isOpen) continue;
      link.sendMessage(encoded);
      waits.push(link.writable());
    }
    await untilAborted(Promise.allSettled(waits), options.signal);
    return waits.length;
  }

  /** Opens a byte stream to a peer; the receiver gets `header` with a Readable in its 'stream' event. */
  async openStream(
    peerId: string,
    header: Record<string, unknown>,
    options: SignalOptions = {},
  ): Promise<Writable> {
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    if (header === null || typeof header !== 'object') {
      throw new InvalidArgumentError('stream header must be an object');
    }
    const stream = this.openLink(peerId).openStream(header);
    if (signal) {
      const onAbort = () => stream.destroy(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const reason = new ClosedError('transport closed');
      this.shutdown.abort(reason);
      for (const ac of this.connecting.values()) ac.abort(reason);
      this.connecting.clear();
      const serverClosed = this.server
        ? new Promise<void>((resolve) => this.server!.close(() => resolve()))
        : Promise.resolve();
      for (const raw of this.pending) raw.destroy();
      for (const link of this.allLinks) link.close(reason);
      await Promise.all([serverClosed, ...[...this.allLinks].map((l) => l.closed)]);
      this.logger.info({ nodeId: this.nodeId }, 'transport closed');
    })();
    return this.closing;
  }

  // ---- internals ----

  private openLink(peerId: string): Link {
    const link = this.links.get(peerId);
    if (!link?.isOpen) throw new NotConnectedError(`peer ${peerId} is not connected`);
    return link;
  }

  private encode(message: Message): Buffer {
    const encoded = encodeMessage(message);
    if (encoded.byteLength > this.limits.maxMessageSize) {
      throw new LimitError(`message of ${encoded.byteLength} bytes exceeds maxMessageSize`);
    }
    return encoded;
  }

  private onInbound(raw: net.Socket): void {
    if (this.closing) {
      raw.destroy();
      return;
    }
    const remoteAddr = formatAddress(raw.remoteAddress ?? 'unknown', raw.remotePort ?? 0);
    if (this.pendingInbound >= this.limits.maxPendingHandshakes) {
      // A flood of sockets that never finish their handshake must not pin memory until they time out.
      this.logger.warn({ remoteAddr }, 'too many handshakes in progress; connection dropped');
      raw.on('error', () => {});
      raw.destroy();
      return;
    }
    this.pending.add(raw);
    this.pendingInbound++;
    this.runHandshake(raw, false, remoteAddr)
      .catch(() => {
        // Logged and reported as 'peer:rejected' inside runHandshake.
      })
      .finally(() => this.pendingInbound--);
  }

  private async runHandshake(
    raw: net.Socket,
    outbound: boolean,
    remoteAddr: string,
    signal?: AbortSignal,
  ): Promise<Link> {
    raw.on('error', () => {}); // reported through the handshake or the link, never as an uncaught error
    const ac = new AbortController();
    const timer = setTimeout(
      () =>
        ac.abort(new TimeoutError(`handshake not done in ${this.limits.handshakeTimeoutMs} ms`)),
      this.limits.handshakeTimeoutMs,
    );
    const onShutdown = () => ac.abort(new ClosedError('transport closed'));
    const onAbort = () => ac.abort(abortError(signal!));
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    signal?.addEventListener('abort', onAbort, { once: true });
    let link: Link | undefined;
    try {
      const socket = await this.handshake(raw, { outbound, signal: ac.signal });
      if (ac.signal.aborted) {
        socket.destroy();
        throw ac.signal.reason;
      }
      link = new Link(socket, {
        outbound,
        limits: this.limits,
        logger: this.logger,
        signal: ac.signal,
        local: this.localHello(),
        onHello: (l, hello) => this.accept(l, hello),
      });
      this.allLinks.add(link);
      const l = link;
      void link.closed.then(() => this.allLinks.delete(l));
      await link.ready;
      return link;
    } catch (err) {
      const error = err instanceof Error ? err : new TransportError('ERR_PROTOCOL', String(err));
      // A link ends its own socket after its GOAWAY (destroying now could drop that frame).
      if (!link) raw.destroy();
      const winner = link?.remote && this.links.get(link.remote.id);
      if ((error as TransportError).code === 'ERR_DUPLICATE_CONNECTION' && winner?.isOpen) {
        this.logger.debug(
          { remoteAddr, peer: link!.remote!.id },
          'duplicate link closed; keeping the other',
        );
        return winner;
      }
      const code = (error as TransportError).code ?? 'ERR_PROTOCOL';
      this.logger.warn({ remoteAddr, outbound, code, reason: error.message }, 'peer rejected');
      this.safeEmit('peer:rejected', { remoteAddr, outbound }, error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
      signal?.removeEventListener('abort', onAbort);
      this.pending.delete(raw);
    }
  }

  private localHello(): Hello {
    return {
      version: PROTOCOL_VERSION,
      id: this.nodeId,
      listen: this.advertise ?? this.boundAddr,
      nonce: randomBytes(8).toString('hex'),
      window: this.limits.streamWindow,
      maxFrame: this.limits.maxFrameSize,
      maxStreams: this.limits.maxStreamsPerPeer,
    };
  }

  /**
   * Which of two links between the same nodes survives, computed identically on both ends:
   * the one dialed by the lower node id, then the lower dialer nonce.
   */
  private rank(link: Link, remote: Hello): Rank {
    const dialerId = link.outbound ? this.nodeId : remote.id;
    const dialerNonce = link.outbound ? link.local.nonce : remote.nonce;
    const lower = [this.nodeId, remote.id].sort()[0];
    return [dialerId === lower ? 0 : 1, dialerNonce];
  }

  private accept(link: Link, hello: Hello): LinkHandlers {
    if (this.closing) throw new ClosedError('transport closed');
    if (hello.id === this.nodeId) {
      throw new SelfConnectionError('this link connects the node to itself');
    }
    const existing = this.links.get(hello.id);
    const replacing = existing !== undefined;
    if (existing?.isEstablished) {
      // Without a cluster secret anyone can claim a known id; a link that is carrying traffic
      // stays, so such a HELLO cannot cut a working link (a dead one gives way after 2 pings).
      throw new DuplicateConnectionError(
        `already linked to ${hello.id} over an established link; keeping it`,
      );
    }
    if (existing) {
      const a = this.rank(link, hello);
      const b = this.rank(existing, existing.remote!);
      const newWins = a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
      if (!newWins) {
        throw new DuplicateConnectionError(
          `already linked to ${hello.id}; keeping the link dialed by the lower node id`,
        );
      }
      this.logger.info(
        { peer: hello.id },
        'duplicate link: replacing the existing one (lower node id dialed the new one)',
      );
      // Remove first so the old link's close is not reported as a disconnect.
      this.links.delete(hello.id);
      existing.close(
        new DuplicateConnectionError('replaced by a link dialed by the lower node id'),
      );
    }
    const info: PeerInfo = {
      id: hello.id,
      listenAddr: hello.listen,
      remoteAddr: link.remoteAddress,
      outbound: link.outbound,
    };
    this.infos.set(link, info);
    this.links.set(hello.id, link);
    const id = hello.id;
    return {
      onOpen: () => {
        // A swap of duplicate links is no disconnect: the peer stayed connected throughout.
        if (replacing) {
          this.logger.debug({ peer: id }, 'duplicate link swapped');
          this.safeEmit('peer:relink', info);
          return;
        }
        this.logger.info(
          { peer: id, remoteAddr: info.remoteAddr, outbound: info.outbound },
          'peer connected',
        );
        this.safeEmit('peer:connect', info);
      },
      onMessage: (msg) => this.safeEmit('message', id, msg),
      onStream: (header, stream) => {
        if (this.listenerCount('stream') === 0) return false;
        this.safeEmit('stream', id, header, stream);
        return true;
      },
      onClose: (err) => {
        if (this.links.get(id) !== link) return;
        this.links.delete(id);
        const code = (err as TransportError).code;
        const log = code === 'ERR_CLOSED' ? 'info' : 'warn';
        this.logger[log]({ peer: id, code, reason: err.message }, 'peer disconnected');
        this.safeEmit('peer:disconnect', info, err);
        for (const wake of [...(this.disconnectWaiters.get(id) ?? [])]) wake();
      },
    };
  }

  /** Listener exceptions are the application's bug; they must not tear down a link or the node. */
  private safeEmit<K extends keyof TransportEvents>(event: K, ...args: TransportEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error({ err, event }, 'event listener threw');
    }
  }
}
