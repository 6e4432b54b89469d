// The node's mesh: the peers it knows (a bounded PeerBook; reached ones kept in node.json for the
// next start), dials to them, and peer exchange, so a node started with one bootstrap address meets everyone.

import type { PeerInfo } from '@peerstash/transport-tcp';
import { BOUNDS } from '../config.js';
import { type NodeFile, saveNode } from '../data-dir.js';
import { errorCode, NotConnectedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PeerAddr, PeersMessage } from '../messages.js';
import { PeerBook } from './peer-book.js';
import type { PeerRpc } from './peer-rpc.js';

/** What the mesh needs of the transport. */
export interface MeshTransport {
  peers(): PeerInfo[];
  connect(addr: string): void;
  stopDialing(addr: string): void;
  on(event: 'peer:connect', fn: (info: PeerInfo) => void): unknown;
  on(event: 'peer:disconnect', fn: (info: PeerInfo, reason: Error) => void): unknown;
}

export interface MeshComponents {
  transport: MeshTransport;
  rpc: PeerRpc;
  log: Logger;
  /** Whether the node takes peer traffic now. */
  live(): boolean;
  dataDir: string;
  /** node.json as loaded; its peer list is rewritten as peers are reached. */
  node: NodeFile;
  /** The bound listen address, and the one announced to peers. */
  address: string;
  advertise: string | undefined;
}

export class PeerMesh {
  readonly #c: MeshComponents;
  readonly #book = new PeerBook({
    max: BOUNDS.maxKnownPeers,
    unreachedTtlMs: BOUNDS.unreachedPeerTtlMs,
  });
  /** Peers whose current link carried a valid message: the ones peer exchange vouches for. */
  readonly #heard = new Set<string>();
  /** Addresses given to transport.connect(), whose redial loops run until pruned. */
  readonly #dialing = new Set<string>();
  /** Bootstrap addresses are dialed for as long as the node runs, whatever the book forgets. */
  #bootstrap = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onChange: Array<() => void> = [];
  #saveTimer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;

  constructor(components: MeshComponents) {
    this.#c = components;
    const { node, transport, rpc } = components;
    const kept = this.#book.load(node.peers ?? [], node.nodeId);
    // junk saved by an older version goes at the first save
    if (kept.length !== (node.peers ?? []).length) this.#scheduleSave();
    transport.on('peer:connect', (info) => this.#connected(info));
    transport.on('peer:disconnect', (info, reason) => this.#disconnected(info, reason));
    rpc.onHeard((peerId) => this.#heardFrom(peerId));
    rpc.handle('peers', (_peerId, msg) => this.#learn(msg));
  }

  /** Calls `fn` whenever a peer joins or leaves. */
  onChange(fn: () => void): void {
    this.#onChange.push(fn);
  }

  /** Ids of the peers connected now (one per peer, however many links). */
  peerIds(): string[] {
    return [...new Set(this.#c.transport.peers().map((p) => p.id))];
  }

  peers(): PeerInfo[] {
    return this.#c.transport.peers();
  }

  /** Peers known (every standing), for status and tests; never more than BOUNDS.maxKnownPeers. */
  get knownCount(): number {
    return this.#book.size;
  }

  /** Dials the bootstrap addresses and every peer reached before. */
  start(bootstrap: readonly string[]): void {
    this.#bootstrap = new Set(bootstrap);
    for (const addr of bootstrap) this.#dial(addr);
    for (const e of this.#book.entries()) this.#dial(e.addr);
    this.#pruneTimer = setInterval(() => this.#prune(), BOUNDS.unreachedPeerTtlMs / 4);
    this.#pruneTimer.unref();
  }

  /** Cancels pending dials and writes the peer list if a write was due. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    clearInterval(this.#pruneTimer);
    if (this.#saveTimer) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      await this.#save().catch(() => {});
    }
  }

  #changed(): void {
    for (const fn of this.#onChange) fn();
  }

  #connected(info: PeerInfo): void {
    if (!this.#c.live()) return;
    const { rpc, log, node } = this.#c;
    log.info({ peer: info.id, addr: info.listenAddr }, 'peer connected');
    this.#changed();
    this.#book.linked(info.id, info.listenAddr);
    // Only peers whose links carried messages are passed on: on a plain-TCP node anyone can send
    // a HELLO, and a flood of them must not become every peer's dial list.
    const everyone: PeerAddr[] = [];
    const announced = this.#c.advertise ?? this.#c.address;
    if (announced) everyone.push({ id: node.nodeId, addr: announced });
    for (const p of this.#c.transport.peers()) {
      if (p.listenAddr && this.#heard.has(p.id)) everyone.push({ id: p.id, addr: p.listenAddr });
    }
    rpc.send(info.id, { type: 'peers', peers: everyone } satisfies PeersMessage).catch(() => {});
  }

  /** A valid message from a linked peer: the first one on a link makes it reached. */
  #heardFrom(peerId: string): void {
    if (this.#heard.has(peerId) || !this.#c.live()) return;
    const { transport, rpc } = this.#c;
    const info = transport.peers().find((p) => p.id === peerId);
    if (!info) return;
    this.#heard.add(peerId);
    if (this.#book.reached(peerId, info.listenAddr)) this.#scheduleSave();
    if (!info.listenAddr) return;
    const news: PeersMessage = { type: 'peers', peers: [{ id: peerId, addr: info.listenAddr }] };
    for (const p of transport.peers()) {
      if (p.id !== peerId) rpc.send(p.id, news).catch(() => {});
    }
  }

  #disconnected(info: PeerInfo, reason: Error): void {
    this.#c.log.info({ peer: info.id, code: errorCode(reason) }, 'peer disconnected');
    const gone = new NotConnectedError(`peer ${info.id.slice(0, 8)} disconnected`, {
      cause: reason,
    });
    // a peer that is still connected over another link keeps its requests
    if (this.#c.transport.peers().some((p) => p.id === info.id)) return;
    this.#heard.delete(info.id);
    this.#book.unlinked(info.id);
    this.#c.rpc.failPeer(info.id, gone);
    this.#changed();
  }

  #learn(msg: PeersMessage): void {
    const me = this.#c.node.nodeId;
    const connected = new Set(this.#c.transport.peers().map((p) => p.id));
    for (const { id, addr } of msg.peers) {
      if (id === me || connected.has(id) || addr === this.#c.address) continue;
      // full of peers that were reached: someone else's list does not push them out
      if (!this.#book.heard(id, addr)) continue;
      // Dialed at the address named now, which may be newer than a saved one (a peer back on a
      // new port); the book keeps a reached peer's own address until the peer says otherwise.
      // Both ends learn of each other at once; the lower id dials first, the other only if
      // no link appeared after a grace period, so the pair usually ends up with one link
      if (me < id) this.#dial(addr);
      else {
        const t = setTimeout(
          () => {
            this.#timers.delete(t);
            if (!this.#c.live()) return;
            if (!this.#c.transport.peers().some((p) => p.id === id)) this.#dial(addr);
          },
          BOUNDS.peerDialGraceMs + Math.floor(Math.random() * BOUNDS.peerDialJitterMs),
        );
        t.unref();
        this.#timers.add(t);
      }
    }
  }

  #dial(addr: string): void {
    const { transport } = this.#c;
    if (addr === this.#c.address || this.#dialing.has(addr)) return;
    if (transport.peers().some((p) => p.listenAddr === addr)) return;
    this.#dialing.add(addr);
    try {
      transport.connect(addr);
    } catch (err) {
      this.#dialing.delete(addr);
      this.#c.log.warn({ addr, code: errorCode(err) }, 'cannot dial peer');
    }
  }

  /**
   * Peers heard of but never reached for the TTL are forgotten, and every redial loop whose
   * address is no longer a known peer's (or a bootstrap one) ends.
   */
  #prune(): void {
    this.#book.prune();
    const wanted = new Set([...this.#bootstrap, ...this.#book.entries().map((e) => e.addr)]);
    for (const addr of this.#dialing) {
      if (wanted.has(addr)) continue;
      this.#dialing.delete(addr);
      this.#c.transport.stopDialing(addr);
    }
  }

  #scheduleSave(): void {
    if (this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#save().catch((err) => this.#c.log.debug({ err }, 'could not save peers'));
    }, BOUNDS.savePeersDelayMs);
    this.#saveTimer.unref();
  }

  async #save(): Promise<void> {
    const { node, dataDir } = this.#c;
    node.peers = this.#book.saved(BOUNDS.maxSavedPeers);
    await saveNode(dataDir, node);
  }
}
