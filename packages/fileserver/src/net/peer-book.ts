// The peers a node knows, bounded: who was only heard of or only sent a HELLO, and who was reached
// (a link that carried messages). Only reached peers are saved; unknown ones never push them out.

import { isNodeId, isPeerAddress } from '@peerstash/transport-tcp';

/**
 * How far a peer got: named in a `peers` message, linked (its HELLO arrived, which anyone can send
 * on a plain-TCP node), or reached (a link to it carried valid messages, in this run or before).
 */
export type Standing = 'heard' | 'linked' | 'reached';

const RANK: Record<Standing, number> = { heard: 0, linked: 1, reached: 2 };

export interface BookEntry {
  id: string;
  addr: string;
  standing: Standing;
  /** Linked now (a connected peer is never evicted, whatever its standing). */
  connected: boolean;
  /** Last link, message or mention (ms); order of eviction and of the saved list. */
  seenAt: number;
}

export interface PeerBookOptions {
  /** Entries held at most (every standing together). */
  max: number;
  /** A peer never reached and not linked now is forgotten this long after it was last seen. */
  unreachedTtlMs: number;
  now?: () => number;
}

export class PeerBook {
  readonly #entries = new Map<string, BookEntry>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(options: PeerBookOptions) {
    this.#max = options.max;
    this.#ttl = options.unreachedTtlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): BookEntry | undefined {
    return this.#entries.get(id);
  }

  entries(): BookEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * node.json's list: reached in an earlier run. Entries that are not a node id and a dialable
   * address (written by versions that saved whatever a HELLO said) are dropped. Returns the kept.
   */
  load(saved: ReadonlyArray<{ id: unknown; addr: unknown }>, self: string): BookEntry[] {
    // older than anything this run sees, in the file's order (its first entry ranks highest)
    let seenAt = saved.length;
    for (const p of saved) {
      seenAt--;
      if (!isNodeId(p.id) || !isPeerAddress(p.addr) || p.id === self) continue;
      if (this.#entries.has(p.id)) continue;
      this.#insert({ id: p.id, addr: p.addr, standing: 'reached', connected: false, seenAt });
    }
    return this.entries();
  }

  /** Named by a linked peer's `peers` message; true when it is (still) worth dialing. */
  heard(id: string, addr: string): boolean {
    const e = this.#entries.get(id);
    if (e) {
      // a reached peer's address is what it announced itself, not what a third party claims
      if (e.standing === 'heard') e.addr = addr;
      e.seenAt = this.#now();
      return true;
    }
    return this.#insert({ id, addr, standing: 'heard', connected: false, seenAt: this.#now() });
  }

  /** Its HELLO arrived and the link opened; `addr` is the listen address it announced. */
  linked(id: string, addr: string | undefined): void {
    const e = this.#entries.get(id);
    const seenAt = this.#now();
    if (e) {
      e.connected = true;
      e.seenAt = seenAt;
      if (RANK[e.standing] < RANK.linked) e.standing = 'linked';
      // the address moves only once the peer proved itself on this link (see reached())
      if (addr && e.standing !== 'reached') e.addr = addr;
      return;
    }
    if (addr) this.#insert({ id, addr, standing: 'linked', connected: true, seenAt });
  }

  /**
   * A linked peer sent a valid message: reached. Returns true when what node.json would hold
   * changed (a new reached peer, or a reached peer now announcing another address).
   */
  reached(id: string, addr: string | undefined): boolean {
    const e = this.#entries.get(id);
    const seenAt = this.#now();
    if (e) {
      const changed = e.standing !== 'reached' || (addr !== undefined && addr !== e.addr);
      e.standing = 'reached';
      e.connected = true;
      e.seenAt = seenAt;
      if (addr) e.addr = addr;
      return changed;
    }
    if (!addr) return false;
    return this.#insert({ id, addr, standing: 'reached', connected: true, seenAt });
  }

  /** Its last link closed. */
  unlinked(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.connected = false;
    e.seenAt = this.#now();
  }

  /** Forgets peers never reached, not linked now and not seen for the TTL; returns them. */
  prune(): BookEntry[] {
    const before = this.#now() - this.#ttl;
    const gone: BookEntry[] = [];
    for (const e of this.#entries.values()) {
      if (e.standing !== 'reached' && !e.connected && e.seenAt < before) gone.push(e);
    }
    for (const e of gone) this.#entries.delete(e.id);
    return gone;
  }

  /** What node.json keeps: reached peers, linked ones first, then the most recently seen. */
  saved(limit: number): Array<{ id: string; addr: string }> {
    return [...this.#entries.values()]
      .filter((e) => e.standing === 'reached')
      .sort((a, b) => Number(b.connected) - Number(a.connected) || b.seenAt - a.seenAt)
      .slice(0, limit)
      .map(({ id, addr }) => ({ id, addr }));
  }

  /**
   * Adds `entry`, making room when full: first by dropping peers past their TTL, then by evicting
   * the lowest-standing, least recently seen peer that ranks below the newcomer, or as high but not
   * linked now — a peer never reached cannot push out one that was. False when there is no room.
   */
  #insert(entry: BookEntry): boolean {
    if (this.#entries.size >= this.#max) this.prune();
    if (this.#entries.size >= this.#max) {
      const rank = RANK[entry.standing];
      let victim: BookEntry | undefined;
      for (const e of this.#entries.values()) {
        const r = RANK[e.standing];
        if (r > rank || (r === rank && e.connected)) continue;
        if (
          !victim ||
          r - RANK[victim.standing] < 0 ||
          (r === RANK[victim.standing] && e.seenAt < victim.seenAt)
        ) {
          victim = e;
        }
      }
      if (!victim) return false;
      this.#entries.delete(victim.id);
    }
    this.#entries.set(entry.id, entry);
    return true;
  }
}
