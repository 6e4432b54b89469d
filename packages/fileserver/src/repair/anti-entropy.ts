// Anti-entropy repair: periodic rounds in which the node compares, with each live peer, the keys
// both should hold (bucketed summaries), pushes what the peer lacks, hands off surplus copies and
// applies tombstones. Works on sealed blobs only, so storage-only nodes take part.

import { createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { encodeMessage } from '@peerstash/transport-tcp';
import { errorCode, FileServerError, ProtocolError } from '../errors.js';
import type { Extra, StoreOffer } from '../messages.js';
import { placeReplicas } from '../placement.js';
import { Throttle, TokenBucket } from '../rate-limit.js';
import type { Reply, Waiter } from '../replies.js';
import { type Tombstone, TombstoneStore } from '../tombstones.js';
import {
  MAX_HAVE_IDS,
  type RepairHave,
  type RepairHaveReply,
  type RepairMessage,
  type RepairSummary,
  type RepairSummaryReply,
  type TombstoneMessage,
} from './messages.js';
import {
  answer,
  type Entry,
  isTomb,
  newer,
  reconcile,
  SortedEntries,
  tombVersion,
} from './summary.js';

export const DEFAULT_TOMBSTONE_TTL_MS = 7 * 24 * 3600 * 1000;

interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** What the repair needs from the node that runs it. */
export interface RepairHost {
  selfId: string;
  log: Log;
  cas: CasStore;
  transport: TcpTransport;
  replication: number;
  dataDir: string;
  /** Ids of the peers connected now. */
  peers(): string[];
  live(): boolean;
  waitReply(peerId: string, reqId: string): Waiter;
  /** Tell the node a blob was written or removed here. */
  changed(): void;
  /** Advances on every local write or delete (cheap staleness check for the holdings index). */
  generation(): number;
  requestTimeoutMs: number;
  ackTimeoutMs: number;
}

export interface RepairOptions {
  /** Time between rounds (default 30 s); 0: no rounds of its own, only when runRound() is called. */
  intervalMs?: number;
  /** Repair bytes per second (default 50 MB/s; 0 or Infinity: unlimited). */
  rateBytesPerSec?: number;
  /** Tombstones older than this are forgotten (default 7 days). */
  tombstoneTtlMs?: number;
}

export interface RepairStatus {
  keysHeld: number;
  underReplicated: number;
  repairInProgress: boolean;
  lastRepairAt: number | null;
  /** Blob bytes this node pushed for repair. */
  repairBytesSent: number;
  /** Summary and holdings-query bytes this node sent and received. */
  repairSummaryBytes: number;
  repairRounds: number;
}

interface Held extends Entry {
  ns: string;
}

/** One namespace's holdings sorted for summaries, split by which peers share each key. */
interface PairIndex {
  gen: number;
  view: string;
  members: string[];
  /** peer → ns → the keys this node and that peer should both hold. */
  pairs: Map<string, Map<string, SortedEntries>>;
  /** Keys held here whose placement does not include this node. */
  surplus: { e: Held; placement: string[] }[];
  /** ns → id → entry (everything held). */
  byId: Map<string, Map<string, Held>>;
  keysHeld: number;
}

const MAX_CONCURRENT_PUSHES = 8;
const INDEX_MAX_AGE_MS = 1000;
const REPAIR_REQUEST_TIMEOUT_MS = 30_000;
/** How long a gap is left to the holder placement names first before another holder fills it. */
const DEFER_MAX_MS = 10_000;

export function viewOf(members: readonly string[]): string {
  return createHash('sha256')
    .update([...members].sort().join('\n'))
    .digest('hex');
}

function blobAt(meta: BlobMeta): number {
  const p = meta.extra?.putAt;
  return typeof p === 'number' && Number.isSafeInteger(p) && p >= 0 ? p : meta.createdAt;
}

function toExtra(meta: BlobMeta): Extra {
  const out: Extra = {};
  for (const [k, v] of Object.entries(meta.extra ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  out.putAt = blobAt(meta);
  return out;
}

function upsert<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

class Counter extends Transform {
  constructor(readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.onBytes(chunk.length);
    cb(null, chunk);
  }
}

export class AntiEntropy {
  readonly #h: RepairHost;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  readonly #bucket: TokenBucket;
  readonly tombstones: TombstoneStore;
  #timer: NodeJS.Timeout | undefined;
  #poke: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #index: (PairIndex & { builtAt: number }) | undefined;
  #building: Promise<PairIndex> | undefined;
  #lacking = new Set<string>();
  /** Gaps left to another holder (peer/ns/id → when first seen); filled here if still open later. */
  #deferred = new Map<string, number>();
  /** Work was left over (gaps, a peer cut short): the next round comes soon, not a full interval on. */
  #unfinished = false;
  #lastAt: number | null = null;
  #bytesSent = 0;
  #summaryBytes = 0;
  #rounds = 0;

  constructor(host: RepairHost, options: RepairOptions = {}) {
    this.#h = host;
    this.#intervalMs = options.intervalMs ?? 30_000;
    this.#ttlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    this.#bucket = new TokenBucket(options.rateBytesPerSec ?? 50_000_000);
    this.tombstones = new TombstoneStore(host.dataDir);
  }

  async load(): Promise<void> {
    await this.tombstones.load();
  }

  start(): void {
    this.#schedule(this.#intervalMs);
  }

  /**
   * Stops scheduling rounds; the promise settles when the round in flight has ended (the node
   * fails its pending requests first, so that does not wait for peer timeouts).
   */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poke) clearTimeout(this.#poke);
    return this.#round?.catch(() => {}) ?? Promise.resolve();
  }

  status(): RepairStatus {
    return {
      keysHeld: this.#index?.keysHeld ?? 0,
      underReplicated: this.#lacking.size,
      repairInProgress: this.#round !== undefined,
      lastRepairAt: this.#lastAt,
      repairBytesSent: this.#bytesSent,
      repairSummaryBytes: this.#summaryBytes,
      repairRounds: this.#rounds,
    };
  }

  /** A peer joined or left: run a round soon (debounced, since meshing brings several events). */
  peersChanged(): void {
    if (this.#stopped || this.#poke || this.#intervalMs === 0) return;
    this.#poke = setTimeout(
      () => {
        this.#poke = undefined;
        void this.runRound();
      },
      Math.min(1000, this.#intervalMs),
    );
    this.#poke.unref();
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#intervalMs === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.runRound(), ms);
    this.#timer.unref();
  }

  /** Runs one round now (or right after the one in progress); resolves when it is done. */
  runRound(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#round) {
      this.#again = true;
      return this.#round;
    }
    const round = this.#runRound()
      .catch((err) => {
        if (this.#h.live()) this.#h.log.warn({ code: errorCode(err), err }, 'repair round failed');
      })
      .finally(() => {
        this.#round = undefined;
        this.#lastAt = Date.now();
        this.#rounds++;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.runRound();
        } else
          this.#schedule(this.#unfinished ? Math.min(this.#intervalMs, 1000) : this.#intervalMs);
      });
    this.#round = round;
    return round;
  }

  // ---------------------------------------------------------------- holdings

  #members(): string[] {
    return [...new Set([this.#h.selfId, ...this.#h.peers()])].sort();
  }

  /** Everything held here, with blob-vs-tombstone conflicts settled and old tombstones pruned. */
  async #scan(): Promise<Map<string, Map<string, Held>>> {
    const { cas } = this.#h;
    await this.tombstones.prune(this.#ttlMs);
    const out = new Map<string, Map<string, Held>>();
    for (const ns of await cas.namespaces()) {
      const m = new Map<string, Held>();
      for await (const meta of cas.list(ns)) {
        m.set(meta.key, { ns, id: meta.key, v: meta.digest, at: blobAt(meta) });
      }
      out.set(ns, m);
    }
    for (const t of [...this.tombstones.all()]) {
      const m = upsert(out, t.ns, () => new Map());
      const tomb: Held = { ns: t.ns, id: t.id, v: tombVersion(t.deletedAt), at: t.deletedAt };
      const blob = m.get(t.id);
      if (blob && newer(blob, tomb)) {
        await this.tombstones.remove(t.ns, t.id, t.deletedAt);
        continue;
      }
      if (blob) await this.#deleteBlob(t.ns, t.id);
      m.set(t.id, tomb);
    }
    return out;
  }

  /** The holdings index for the current placement view, rebuilt when stale. */
  async #pairIndex(fresh: boolean): Promise<PairIndex> {
    const members = this.#members();
    const view = viewOf(members);
    const gen = this.#h.generation();
    const cur = this.#index;
    if (
      cur &&
      cur.view === view &&
      (cur.gen === gen || (!fresh && performance.now() - cur.builtAt < INDEX_MAX_AGE_MS))
    ) {
      return cur;
    }
    if (!this.#building) {
      this.#building = this.#build(members, view).finally(() => {
        this.#building = undefined;
      });
    }
    const built = await this.#building;
    if (built.view !== view) return this.#pairIndex(fresh);
    return built;
  }

  async #build(members: string[], view: string): Promise<PairIndex> {
    const gen = this.#h.generation();
    const byId = await this.#scan();
    const self = this.#h.selfId;
    const r = this.#h.replication;
    const lists = new Map<string, Map<string, Entry[]>>();
    const surplus: PairIndex['surplus'] = [];
    let keysHeld = 0;
    for (const [ns, m] of byId) {
      for (const e of m.values()) {
        if (!isTomb(e)) keysHeld++;
        // R = 0 asks for no replicas: each copy stays where it was written, untouched by repair
        if (r < 1) continue;
        const placement = placeReplicas(e.id, members, r);
        if (!placement.includes(self)) {
          surplus.push({ e, placement });
          continue;
        }
        for (const p of placement) {
          if (p === self) continue;
          const per = upsert(lists, p, () => new Map());
          const l = upsert(per, ns, () => []);
          l.push(e);
        }
      }
    }
    const pairs = new Map<string, Map<string, SortedEntries>>();
    for (const [p, per] of lists) {
      const sorted = new Map<string, SortedEntries>();
      for (const [ns, l] of per) sorted.set(ns, new SortedEntries(l));
      pairs.set(p, sorted);
    }
    const index = { gen, view, members, pairs, surplus, byId, keysHeld };
    this.#index = { ...index, builtAt: performance.now() };
    return index;
  }

  async #deleteBlob(ns: string, id: string): Promise<void> {
    try {
      await this.#h.cas.delete(ns, id);
    } finally {
      this.#h.changed();
    }
  }

  // ---------------------------------------------------------------- a round

  async #runRound(): Promise<void> {
    const started = performance.now();
    const sentBefore = this.#bytesSent;
    const idx = await this.#pairIndex(true);
    const indexMs = performance.now() - started;
    const lacking = new Set<string>();
    const deferredBefore = this.#deferred;
    this.#deferred = new Map();
    let cut = false;
    const peers = idx.members.filter((p) => p !== this.#h.selfId);
    await mapLimit(peers, 4, async (peer) => {
      for (const [ns, set] of idx.pairs.get(peer) ?? []) {
        if (!this.#h.live() || this.#stopped) return;
        try {
          await this.#syncPair(peer, ns, idx, set, lacking, deferredBefore);
        } catch (err) {
          cut = true;
          this.#h.log.info({ peer, code: errorCode(err) }, 'repair with peer cut short');
        }
      }
    });
    await this.#handOff(idx, lacking);
    this.#lacking = lacking;
    // gaps left to another holder do not hurry the next round: that holder is filling them now
    this.#unfinished = cut || lacking.size > 0;
    this.#h.log.debug(
      {
        held: idx.keysHeld,
        lacking: lacking.size,
        pushed: this.#bytesSent - sentBefore,
        indexMs: Math.round(indexMs),
        ms: Math.round(performance.now() - started),
      },
      'repair round done',
    );
  }

  async #request<T extends RepairMessage['type']>(
    peer: string,
    msg: RepairSummary | RepairHave,
    expect: T,
  ): Promise<Extract<RepairMessage, { type: T }>> {
    const waiter = this.#h.waitReply(peer, msg.reqId);
    // background work on a possibly busy peer: more patience than a user's get
    waiter.arm(Math.max(this.#h.requestTimeoutMs, REPAIR_REQUEST_TIMEOUT_MS));
    try {
      this.#summaryBytes += encodeMessage(msg).length;
      await this.#h.transport.send(peer, msg);
      const reply: Reply = await waiter.promise;
      if (reply.kind !== 'message' || reply.msg.type !== expect) {
        throw new ProtocolError(`expected a ${expect}`);
      }
      this.#summaryBytes += encodeMessage(reply.msg).length;
      return reply.msg as Extract<RepairMessage, { type: T }>;
    } finally {
      waiter.cancel();
    }
  }

  /** Compares the keys this node and `peer` should both hold in `ns`; pushes what it lacks. */
  async #syncPair(
    peer: string,
    ns: string,
    idx: PairIndex,
    set: SortedEntries,
    lacking: Set<string>,
    deferredBefore: Map<string, number>,
  ): Promise<void> {
    const diffs = await reconcile(set, async (prefixes, root) => {
      const reqId = randomBytes(9).toString('base64url');
      const reply = await this.#request(
        peer,
        { type: 'repair-summary', reqId, ns, view: idx.view, prefixes, ...(root ? { root } : {}) },
        'repair-summary-reply',
      );
      if (!reply.ok) throw new FileServerError(reply.code ?? 'ERR_PROTOCOL', 'summary refused');
      return reply.parts;
    });
    const pushes: Held[] = [];
    for (const d of diffs) {
      if (d.mine && (!d.theirs || newer(d.mine, d.theirs))) {
        // several holders see the same gap: the first in placement order fills it, the others
        // only if it is still open a round later (that one may lack the key too)
        const first = placeReplicas(d.id, idx.members, this.#h.replication).find((n) => n !== peer);
        const slot = `${peer}/${ns}/${d.id}`;
        const since = deferredBefore.get(slot) ?? Date.now();
        if (
          first === this.#h.selfId ||
          isTomb(d.mine) ||
          Date.now() - since >= Math.min(2 * (this.#intervalMs || DEFER_MAX_MS), DEFER_MAX_MS)
        ) {
          pushes.push({ ...d.mine, ns });
        } else {
          this.#deferred.set(slot, since);
        }
      } else if (d.mine && d.theirs && isTomb(d.theirs)) {
        await this.#applyTombstone(ns, d.id, d.theirs.at, peer);
      } else if (d.mine && d.theirs && !isTomb(d.theirs)) {
        // the peer holds a newer version: it pushes it here in its own round
      }
    }
    for (const e of pushes) lacking.add(`${ns}/${e.id}`);
    await mapLimit(pushes, MAX_CONCURRENT_PUSHES, async (e) => {
      if (await this.#push(peer, e)) lacking.delete(`${ns}/${e.id}`);
    });
  }

  /**
   * Keys held here but placed elsewhere: make sure every placement node keeps a copy of this
   * version (pushing where missing), and only then drop the local one.
   */
  async #handOff(idx: PairIndex, lacking: Set<string>): Promise<void> {
    const byNs = new Map<string, PairIndex['surplus']>();
    for (const s of idx.surplus) {
      const l = upsert(byNs, s.e.ns, () => []);
      l.push(s);
    }
    for (const [ns, all] of byNs) {
      for (let i = 0; i < all.length; i += MAX_HAVE_IDS) {
        if (!this.#h.live() || this.#stopped) return;
        const batch = all.slice(i, i + MAX_HAVE_IDS);
        let views = await this.#askHave(ns, batch);
        const pushes: { peer: string; e: Held }[] = [];
        for (const { e, placement } of batch) {
          for (const p of placement) {
            const theirs = views.get(p)?.get(e.id);
            if (!theirs || newer(e, theirs)) pushes.push({ peer: p, e });
          }
        }
        if (pushes.length > 0) {
          await mapLimit(pushes, MAX_CONCURRENT_PUSHES, async ({ peer, e }) => {
            await this.#push(peer, e);
          });
          views = await this.#askHave(ns, batch);
        }
        for (const { e, placement } of batch) {
          let kept = 0;
          let superseded: Entry | undefined;
          for (const p of placement) {
            const theirs = views.get(p)?.get(e.id);
            if (!theirs) continue;
            if (theirs.v === e.v && theirs.keeps) kept++;
            else if (newer(theirs, e) && theirs.keeps) {
              kept++;
              superseded = theirs;
            }
          }
          const needed = Math.min(this.#h.replication, idx.members.length);
          if (superseded && isTomb(superseded) && !isTomb(e)) {
            await this.#applyTombstone(ns, e.id, superseded.at, undefined);
          }
          if (kept >= needed && placement.length >= needed) {
            await this.#dropSurplus(e);
          } else if (!isTomb(e)) lacking.add(`${ns}/${e.id}`);
        }
      }
    }
  }

  async #dropSurplus(e: Held): Promise<void> {
    if (isTomb(e)) {
      await this.tombstones.remove(e.ns, e.id, e.at);
      return;
    }
    const meta = await this.#h.cas.stat(e.ns, e.id).catch(() => undefined);
    // a newer write may have landed since the index was built: that one is not surplus yet
    if (!meta || meta.digest !== e.v) return;
    await this.#deleteBlob(e.ns, e.id);
    this.#h.log.debug({ id: e.id }, 'surplus copy handed off');
  }

  /** Each placement peer's view of the batch's ids. */
  async #askHave(
    ns: string,
    batch: PairIndex['surplus'],
  ): Promise<Map<string, Map<string, Entry & { keeps: boolean }>>> {
    const ask = new Map<string, string[]>();
    for (const { e, placement } of batch) {
      for (const p of placement) {
        const l = upsert(ask, p, () => []);
        l.push(e.id);
      }
    }
    const out = new Map<string, Map<string, Entry & { keeps: boolean }>>();
    await Promise.all(
      [...ask].map(async ([peer, ids]) => {
        try {
          const reqId = randomBytes(9).toString('base64url');
          const reply = await this.#request(
            peer,
            { type: 'repair-have', reqId, ns, ids },
            'repair-have-reply',
          );
          const m = new Map<string, Entry & { keeps: boolean }>();
          for (const [id, v, at, keeps] of reply.entries) m.set(id, { id, v, at, keeps });
          out.set(peer, m);
        } catch (err) {
          this.#h.log.debug({ peer, code: errorCode(err) }, 'holdings query failed');
        }
      }),
    );
    return out;
  }

  // ---------------------------------------------------------------- pushing

  /** Sends one entry to a peer: a tombstone message, or the sealed blob (rate-limited). */
  async #push(peer: string, e: Held): Promise<boolean> {
    if (isTomb(e)) {
      const t = this.tombstones.get(e.ns, e.id);
      if (!t) return false;
      const msg: TombstoneMessage = { type: 'tombstone', ...t };
      await this.#h.transport.send(peer, msg).catch(() => {});
      return true;
    }
    const { cas, transport } = this.#h;
    let read: Awaited<ReturnType<CasStore['read']>>;
    try {
      read = await cas.read(e.ns, e.id);
    } catch {
      return false;
    }
    const { stream, meta } = read;
    if (meta.digest !== e.v) {
      stream.destroy();
      return false;
    }
    const reqId = randomBytes(9).toString('base64url');
    const waiter = this.#h.waitReply(peer, reqId);
    try {
      const offer: StoreOffer = {
        type: 'store-offer',
        reqId,
        ns: e.ns,
        id: e.id,
        extra: toExtra(meta),
        digest: meta.digest,
        size: meta.size,
      };
      const out = await transport.openStream(peer, offer);
      const sent = pipeline(
        stream,
        new Throttle(this.#bucket),
        new Counter((n) => {
          this.#bytesSent += n;
        }),
        out,
      ).catch(() => {
        // the receiver may cut the stream short when it already holds the blob; its ack decides
      });
      waiter.arm(this.#h.ackTimeoutMs);
      const reply = await waiter.promise;
      // an early answer (already held, or refused) leaves bytes unsent: stop reading them
      if (!stream.readableEnded) stream.destroy();
      await sent;
      if (reply.kind !== 'message' || reply.msg.type !== 'store-ack') return false;
      if (!reply.msg.ok) {
        this.#h.log.debug({ peer, id: e.id, code: reply.msg.code }, 'repair push refused');
      }
      return reply.msg.ok;
    } catch (err) {
      stream.destroy();
      this.#h.log.debug({ peer, id: e.id, code: errorCode(err) }, 'repair push failed');
      return false;
    } finally {
      waiter.cancel();
    }
  }

  // ---------------------------------------------------------------- tombstones

  /** A delete everywhere taken here: keep a tombstone and tell every peer. */
  async recordDelete(ns: string, id: string): Promise<void> {
    const t: Tombstone = { ns, id, deletedAt: Date.now(), origin: this.#h.selfId };
    await this.tombstones.put(t);
    this.#h.changed();
    const msg: TombstoneMessage = { type: 'tombstone', ...t };
    await Promise.all(this.#h.peers().map((p) => this.#h.transport.send(p, msg).catch(() => {})));
  }

  /** Applies a tombstone learnt from a peer (or a repair reply): the blob goes if older. */
  async #applyTombstone(
    ns: string,
    id: string,
    deletedAt: number,
    from: string | undefined,
  ): Promise<void> {
    const meta = await this.#h.cas.stat(ns, id).catch(() => undefined);
    const tomb: Entry = { id, v: tombVersion(deletedAt), at: deletedAt };
    if (meta && newer({ id, v: meta.digest, at: blobAt(meta) }, tomb)) return;
    const origin = from ?? this.#h.selfId;
    const kept = await this.tombstones.put({ ns, id, deletedAt, origin });
    if (meta) {
      await this.#deleteBlob(ns, id);
      this.#h.log.debug({ id, deletedAt }, 'blob removed by a tombstone');
    } else if (kept) this.#h.changed();
  }

  /** Whether a replica offered for (ns, id) predates a tombstone here (then it is refused). */
  refuses(offer: StoreOffer): boolean {
    const t = this.tombstones.get(offer.ns, offer.id);
    if (!t) return false;
    const p = offer.extra.putAt;
    const at = typeof p === 'number' ? p : Date.now();
    return t.deletedAt >= at;
  }

  // ---------------------------------------------------------------- answering peers

  /** Handles an incoming repair message (replies are settled by the node itself). */
  async handle(peer: string, msg: RepairMessage): Promise<void> {
    switch (msg.type) {
      case 'tombstone':
        await this.#applyTombstone(msg.ns, msg.id, msg.deletedAt, msg.origin);
        return;
      case 'repair-summary':
        await this.#answerSummary(peer, msg);
        return;
      case 'repair-have':
        await this.#answerHave(peer, msg);
        return;
      default:
        return;
    }
  }

  async #answerSummary(peer: string, msg: RepairSummary): Promise<void> {
    const idx = await this.#pairIndex(false);
    let reply: RepairSummaryReply;
    if (idx.view !== msg.view) {
      // the two nodes place keys over different node sets; a later round will agree
      reply = {
        type: 'repair-summary-reply',
        reqId: msg.reqId,
        ok: false,
        code: 'ERR_VIEW',
        parts: [],
      };
    } else {
      const set = idx.pairs.get(peer)?.get(msg.ns) ?? new SortedEntries([]);
      reply = {
        type: 'repair-summary-reply',
        reqId: msg.reqId,
        ok: true,
        parts: answer(set, msg.prefixes, msg.root),
      };
    }
    await this.#h.transport.send(peer, reply).catch(() => {});
  }

  async #answerHave(peer: string, msg: RepairHave): Promise<void> {
    const idx = await this.#pairIndex(false);
    const self = this.#h.selfId;
    const entries: RepairHaveReply['entries'] = [];
    for (const id of msg.ids) {
      // read fresh rather than from the index: a copy pushed a moment ago must count
      let e: Entry | undefined;
      const meta = await this.#h.cas.stat(msg.ns, id).catch(() => undefined);
      if (meta) e = { id, v: meta.digest, at: blobAt(meta) };
      const t = this.tombstones.get(msg.ns, id);
      if (t) {
        const tomb = { id, v: tombVersion(t.deletedAt), at: t.deletedAt };
        if (!e || newer(tomb, e)) e = tomb;
      }
      if (!e) continue;
      const keeps = placeReplicas(id, idx.members, this.#h.replication).includes(self);
      entries.push([id, e.v, e.at, keeps]);
    }
    const reply: RepairHaveReply = { type: 'repair-have-reply', reqId: msg.reqId, entries };
    await this.#h.transport.send(peer, reply).catch(() => {});
  }
}
