// A get from several holders at once: the file cut into record-aligned ranges, a few in flight
// per holder, sent in order through a bounded reorder buffer; a holder that fails loses its ranges.

import { emptyFinalRecord } from '@peerstash/crypto';
import { BOUNDS } from '../config.js';
import { IntegrityError, NotFoundError } from '../errors.js';
import { abortError } from '../lifecycle.js';
import { rankNodes } from '../placement.js';
import type { Vault } from '../vault.js';
import { LocalCopy } from './local-copy.js';
import type { FetchOutcome } from './peer-fetch.js';
import { firstChunk, type PlainSource } from './plain-source.js';
import { RangeBuffers } from './range-buffers.js';
import { type FetchedRange, fetchRange, plainOf } from './range-fetch.js';
import type { SourceComponents } from './sources.js';

/** Plaintext leaves in pieces this large, decrypted from the range's records as it is sent. */
const OUT_PIECE = 256 * 1024;

export interface SeveralTarget {
  vault: Vault;
  key: string;
  id: string;
  /** The catalog's version: its sealed digest and plaintext size. */
  digest: string;
  plainSize: number;
  /** Peers given up on in this read (shared with the single-source path); extended here. */
  tried: Set<string>;
  signal: AbortSignal | undefined;
}

interface Slot {
  index: number;
  start: number;
  end: number;
  state: 'queued' | 'fetching' | 'done';
  /** Bumped when the slot is taken from its holder, so that holder's late answer is ignored. */
  gen: number;
  ctl?: AbortController | undefined;
  got?: FetchedRange | undefined;
}

/** Whether a get of `plainSize` bytes reads from several holders: two ranges and two peers. */
export function readsFromSeveral(c: SourceComponents, plainSize: number): boolean {
  const r = c.config.getRangeBytes;
  return r > 0 && plainSize >= 2 * r && c.peerIds().length >= 2;
}

/**
 * Opens the file from the connected peers that hold `t.digest`, in rendezvous order, up to
 * BOUNDS.getSources at a time. A peer that answers without the version is passed over at the
 * cost of one round trip; one that fails, stalls or serves a record that fails its tag is given
 * up on for this read and its ranges go to the others (the next candidate joins). The sealed
 * records, in order, also become the local copy, committed only if they hash to `t.digest`.
 */
export async function openSeveral(c: SourceComponents, t: SeveralTarget): Promise<PlainSource> {
  const rangeBytes = c.config.getRangeBytes;
  const plainSize = t.plainSize;
  const slots: Slot[] = [];
  for (let i = 0; i * rangeBytes < plainSize; i++) {
    const end = Math.min((i + 1) * rangeBytes, plainSize) - 1;
    slots.push({ index: i, start: i * rangeBytes, end, state: 'queued', gen: 0 });
  }
  const candidates = rankNodes(t.id, c.peerIds()).filter((p) => !t.tried.has(p));
  let nextCandidate = 0;
  const sources = new Map<string, Set<Slot>>();
  const pool = new RangeBuffers();
  let sent = 0;
  let closed = false;
  let corrupt = false;
  let lastErr: unknown;
  let failure: unknown;
  let header: Buffer | undefined;
  let copy: LocalCopy | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const drop = (peer: string, outcome: FetchOutcome, err: unknown) => {
    const active = sources.get(peer);
    if (!active) return;
    sources.delete(peer);
    t.tried.add(peer);
    if (outcome === 'corrupt') corrupt = true;
    if (outcome === 'failed') lastErr = err;
    if (outcome !== 'missing') {
      c.log.info(
        { peer, id: t.id, outcome },
        'a holder of a multi-source get gave up; ranges moved',
      );
    }
    for (const s of active) {
      s.gen++;
      s.state = 'queued';
      s.ctl?.abort();
      s.ctl = undefined;
    }
  };

  const start = (slot: Slot, peer: string, active: Set<Slot>) => {
    const gen = ++slot.gen;
    slot.state = 'fetching';
    const ctl = new AbortController();
    slot.ctl = ctl;
    active.add(slot);
    const signal = t.signal ? AbortSignal.any([ctl.signal, t.signal]) : ctl.signal;
    const range = { start: slot.start, end: slot.end, plainSize };
    const target = { vault: t.vault, key: t.key, id: t.id, digest: t.digest, range };
    fetchRange(c, peer, target, signal, pool)
      .then((r) => {
        if (closed || slot.gen !== gen) {
          if ('sealed' in r) pool.give(r.buffers);
          return;
        }
        active.delete(slot);
        slot.ctl = undefined;
        if ('sealed' in r && header && !r.header.equals(header)) {
          // a validly sealed blob, but not the one the other ranges came from
          drop(peer, 'corrupt', new IntegrityError('a holder served another sealed header'));
          slot.state = 'queued';
          pool.give(r.buffers);
        } else if ('sealed' in r) {
          header ??= r.header;
          slot.state = 'done';
          slot.got = r;
        } else {
          slot.state = 'queued';
          drop(peer, r.outcome, r.err);
        }
        fill();
        notify();
      })
      .catch((err: unknown) => {
        // fetchRange answers every failure; anything else is a bug, surfaced to the reader
        failure ??= err;
        notify();
      });
  };

  // Hands queued ranges (lowest first, at most getRangesAhead past the one being sent) to the
  // holders with the fewest in flight; brings in the next candidate when one is given up on.
  const fill = () => {
    if (closed) return;
    while (sources.size < BOUNDS.getSources && nextCandidate < candidates.length) {
      sources.set(candidates[nextCandidate++]!, new Set());
    }
    const limit = Math.min(slots.length, sent + BOUNDS.getRangesAhead);
    for (let i = sent; i < limit; i++) {
      const slot = slots[i]!;
      if (slot.state !== 'queued') continue;
      let best: [string, Set<Slot>] | undefined;
      for (const entry of sources) {
        if (entry[1].size >= BOUNDS.getRangesPerHolder) continue;
        if (!best || entry[1].size < best[1].size) best = entry;
      }
      if (!best) break;
      start(slot, best[0], best[1]);
    }
    if (sources.size === 0 && failure === undefined) {
      if (corrupt) failure = new IntegrityError(`no sound copy of ${t.key} is left`);
      else failure = lastErr ?? new NotFoundError(`no reachable node holds ${t.key}`);
    }
  };

  const close = () => {
    if (closed) return;
    closed = true;
    for (const s of slots) {
      s.ctl?.abort();
      s.got = undefined;
    }
    pool.clear();
    copy?.abort();
    notify();
  };

  async function* ordered(): AsyncGenerator<Buffer> {
    try {
      while (sent < slots.length) {
        const slot = slots[sent]!;
        while (slot.state !== 'done') {
          if (failure !== undefined) throw failure;
          if (closed) throw t.signal?.aborted ? abortError(t.signal) : new Error('closed');
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        const got = slot.got!;
        slot.got = undefined;
        sent++;
        fill();
        // the local copy needs each record once: ranges on record boundaries (a chunk ≤ a range)
        if (sent === 1 && rangeBytes % got.chunkSize === 0) {
          copy = new LocalCopy(c, t.vault.ns, t.id, got.extra, t.digest, got.header);
        }
        // to the disk first: the last range's write then overlaps the reader, not its end
        await copy?.write(got.sealed);
        if (copy && sent === slots.length && plainSize % got.chunkSize === 0) {
          // an empty final record holds no plaintext, so no range carried it
          await copy.write(emptyFinalRecord(t.vault.vaultKey, got.header, plainSize));
        }
        yield* plainOf(t.vault.vaultKey, got, OUT_PIECE);
        // the opener has read all of it and the local copy queued copies: free for the next range
        pool.give(got.buffers);
      }
      copy?.end();
    } finally {
      close();
    }
  }

  fill();
  const it = ordered();
  const first = await firstChunk(it, close);
  return {
    it,
    first,
    size: plainSize,
    digest: t.digest,
    origin: 'peer',
    finish: async () => {
      await copy?.commit();
    },
    close,
    // read once given up on: by then the copy, if any, has been started
    get settled() {
      return copy?.settled ?? Promise.resolve();
    },
  };
}
