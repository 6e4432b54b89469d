// The node's mesh: the peers it knows (kept in node.json for the next start), dials to them, and
// peer exchange, so a node started with one bootstrap address meets everyone.

import type { PeerInfo } from '@peerstash/transport-tcp';
import { BOUNDS } from '../config.js';
import { type NodeFile, saveNode } from '../data-dir.js';
import { errorCode, NotConnectedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PeerAddr, PeersMessage } from '../messages.js';
import type { PeerRpc } from './peer-rpc.js';

/** What the mesh needs of the transport. */
export interface MeshTransport {
  peers(): PeerInfo[];
  connect(addr: string): void;
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
  /** node.json as loaded; its peer list is rewritten as peers come and go. */
  node: NodeFile;
  /** The bound listen address, and the one announced to peers. */
  address: string;
  advertise: string | undefined;
}

export class PeerMesh {
  readonly #c: MeshComponents;
  readonly #known = new Map<string, string>();
  readonly #dialing = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onChange: Array<() => void> = [];
  #saveTimer: NodeJS.Timeout | undefined;

  constructor(components: MeshComponents) {
    this.#c = components;
    const { node, transport, rpc } = components;
    for (const p of node.peers ?? []) if (p.id !== node.nodeId) this.#known.set(p.id, p.addr);
    transport.on('peer:connect', (info) => this.#connected(info));
    transport.on('peer:disconnect', (info, reason) => this.#disconnected(info, reason));
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

  /** Dials the bootstrap addresses and every peer met before. */
  start(bootstrap: readonly string[]): void {
    for (const addr of bootstrap) this.#dial(addr);
    for (const addr of this.#known.values()) this.#dial(addr);
  }

  /** Cancels pending dials and writes the peer list if a write was due. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
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
    const { transport, rpc, log, node } = this.#c;
    log.info({ peer: info.id, addr: info.listenAddr }, 'peer connected');
    this.#changed();
    if (info.listenAddr) {
      this.#known.set(info.id, info.listenAddr);
      this.#dialing.delete(info.listenAddr);
      this.#scheduleSave();
    }
    const everyone: PeerAddr[] = [];
    const announced = this.#c.advertise ?? this.#c.address;
    if (announced) everyone.push({ id: node.nodeId, addr: announced });
    for (const p of transport.peers()) {
      if (p.listenAddr) everyone.push({ id: p.id, addr: p.listenAddr });
    }
    rpc.send(info.id, { type: 'peers', peers: everyone } satisfies PeersMessage).catch(() => {});
    if (info.listenAddr) {
      const news: PeersMessage = { type: 'peers', peers: [{ id: info.id, addr: info.listenAddr }] };
      for (const p of transport.peers()) {
        if (p.id !== info.id) rpc.send(p.id, news).catch(() => {});
      }
    }
  }

  #disconnected(info: PeerInfo, reason: Error): void {
    this.#c.log.info({ peer: info.id, code: errorCode(reason) }, 'peer disconnected');
    const gone = new NotConnectedError(`peer ${info.id.slice(0, 8)} disconnected`, {
      cause: reason,
    });
    // a peer that is still connected over another link keeps its requests
    if (this.#c.transport.peers().some((p) => p.id === info.id)) return;
    this.#c.rpc.failPeer(info.id, gone);
    this.#changed();
  }

  #learn(msg: PeersMessage): void {
    const me = this.#c.node.nodeId;
    const connected = new Set(this.#c.transport.peers().map((p) => p.id));
    for (const { id, addr } of msg.peers) {
      if (id === me || connected.has(id) || addr === this.#c.address) continue;
      this.#known.set(id, addr);
      // both ends learn of each other at once; the lower id dials first, the other only if
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
    node.peers = [...this.#known].slice(-BOUNDS.maxSavedPeers).map(([id, addr]) => ({ id, addr }));
    await saveNode(dataDir, node);
  }
}
