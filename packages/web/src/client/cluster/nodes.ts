// Who is in the cluster as this node sees it: itself, its connected peers, and the peers it met
// before (node.json) or that this page saw, which are offline when they are not connected now.

export interface PeerStatus {
  id: string;
  listenAddr?: string;
  remoteAddr?: string;
  outbound: boolean;
}

export interface NodeRow {
  id: string;
  self: boolean;
  online: boolean;
  address: string;
  /** Who dialled: 'out' (this node) or 'in' (the peer); undefined for itself or offline. */
  direction?: 'in' | 'out';
  lastSeenAt?: number;
}

export interface SeenNode {
  address: string;
  lastSeenAt: number;
}

/**
 * Merges one status reading into `seen` (kept by the page between readings) and returns the rows:
 * this node first, then the others by id.
 */
export function clusterRows(
  self: { nodeId: string; listen: string },
  peers: PeerStatus[],
  known: { id: string; addr: string }[],
  seen: Map<string, SeenNode>,
  now: number,
): NodeRow[] {
  const rows = new Map<string, NodeRow>();
  for (const p of peers) {
    const address = p.listenAddr ?? p.remoteAddr ?? '';
    seen.set(p.id, { address, lastSeenAt: now });
    rows.set(p.id, {
      id: p.id,
      self: false,
      online: true,
      address,
      direction: p.outbound ? 'out' : 'in',
      lastSeenAt: now,
    });
  }
  for (const k of known) {
    if (k.id === self.nodeId || rows.has(k.id) || seen.has(k.id)) continue;
    rows.set(k.id, { id: k.id, self: false, online: false, address: k.addr });
  }
  for (const [id, s] of seen) {
    if (id === self.nodeId || rows.has(id)) continue;
    rows.set(id, { id, self: false, online: false, address: s.address, lastSeenAt: s.lastSeenAt });
  }
  const others = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return [{ id: self.nodeId, self: true, online: true, address: self.listen }, ...others];
}
