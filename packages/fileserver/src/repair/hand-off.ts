// Hand-off of surplus copies (keys held here but placed elsewhere): every placement node must keep
// this version, pushed where missing, before the local copy goes, so no key drops below R.

import { withFileLock } from '../catalog/file-locks.js';
import { BOUNDS } from '../config.js';
import { errorCode } from '../errors.js';
import { applyTombstone } from '../tombstone-rules.js';
import { isTomb, newer, type Version } from '../versions.js';
import { standing, supersedes } from './catalog-order.js';
import { mapLimit, type RepairComponents, upsert } from './components.js';
import type { Held, PairIndex } from './holdings.js';
import { MAX_HAVE_IDS } from './messages.js';
import type { RepairPusher } from './push.js';
import type { Entry } from './summary.js';

/** What a placement peer holds of an id, and whether it keeps it (it is in its own placement). */
export type PeerHolding = Entry & { keeps: boolean };

/** Each placement peer's holdings of a batch of ids (peers that did not answer are missing). */
export type HaveViews = Map<string, Map<string, PeerHolding>>;

/**
 * How many placement nodes keep `e` (this version or a newer one), and the newer version one of
 * them keeps, if any. A copy may be dropped only once this reaches min(R, live nodes).
 */
export function keptBy(
  e: Entry,
  placement: readonly string[],
  views: HaveViews,
  order: (a: Version, b: Version) => boolean = newer,
): { kept: number; superseded: Entry | undefined } {
  let kept = 0;
  let superseded: Entry | undefined;
  for (const p of placement) {
    const theirs = views.get(p)?.get(e.id);
    if (!theirs?.keeps) continue;
    if (theirs.v === e.v) kept++;
    else if (order(theirs, e)) {
      kept++;
      superseded = theirs;
    }
  }
  return { kept, superseded };
}

/** Whether a surplus copy may go: enough placement nodes keep it among the live members. */
export function mayDrop(kept: number, placement: number, replication: number, members: number) {
  const needed = Math.min(replication, members);
  return kept >= needed && placement >= needed;
}

export async function handOff(
  c: RepairComponents,
  pusher: RepairPusher,
  idx: PairIndex,
  lacking: Set<string>,
  stopped: () => boolean,
): Promise<void> {
  const byNs = new Map<string, PairIndex['surplus']>();
  for (const s of idx.surplus) upsert(byNs, s.e.ns, () => []).push(s);
  for (const [ns, all] of byNs) {
    const order = (a: Version, b: Version) => supersedes(c.catalog, ns, a, b);
    for (let i = 0; i < all.length; i += MAX_HAVE_IDS) {
      if (!c.live() || stopped()) return;
      const batch = all.slice(i, i + MAX_HAVE_IDS);
      let views = await askHave(c, ns, batch);
      const pushes: { peer: string; e: Held }[] = [];
      for (const { e, placement } of batch) {
        // a copy the catalog does not name current is not spread (its holders have the winner)
        if (standing(c.catalog, ns, e) === 'stale') continue;
        for (const p of placement) {
          const theirs = views.get(p)?.get(e.id);
          if (!theirs || order(e, theirs)) pushes.push({ peer: p, e });
        }
      }
      if (pushes.length > 0) {
        await mapLimit(pushes, BOUNDS.repairConcurrentPushes, async ({ peer, e }) => {
          await pusher.push(peer, e);
        });
        views = await askHave(c, ns, batch);
      }
      for (const { e, placement } of batch) {
        if (deletedInCatalog(c, ns, e)) {
          // the file is deleted: a copy nobody is to keep goes without asking for one
          await dropSurplus(c, e);
          continue;
        }
        const { kept, superseded } = keptBy(e, placement, views, order);
        if (superseded && isTomb(superseded) && !isTomb(e)) {
          await applyTombstone(c, ns, e.id, superseded.at, undefined);
        }
        if (mayDrop(kept, placement.length, c.config.replication, idx.members.length)) {
          await dropSurplus(c, e);
        } else if (!isTomb(e)) lacking.add(`${ns}/${e.id}`);
      }
    }
  }
}

/** The catalog holds a tombstone dated after this copy was put (a put after it would have a record). */
function deletedInCatalog(c: RepairComponents, ns: string, e: Held): boolean {
  if (isTomb(e)) return false;
  const r = c.catalog.get(ns, e.id);
  return r?.deleted === true && r.hlc.wall >= e.at;
}

async function dropSurplus(c: RepairComponents, e: Held): Promise<void> {
  if (isTomb(e)) {
    await c.tombstones.remove(e.ns, e.id, e.at);
    return;
  }
  // under the file's lock and only that version: a newer write may have landed since the index
  // was built (or lands now), and that one is not surplus yet
  const dropped = await withFileLock(c.catalog, e.ns, e.id, async () => {
    const meta = await c.cas.stat(e.ns, e.id).catch(() => undefined);
    if (!meta || meta.digest !== e.v) return false;
    try {
      return await c.cas.delete(e.ns, e.id, {
        ifMatch: { digest: meta.digest, createdAt: meta.createdAt },
      });
    } finally {
      c.inventory.changed();
    }
  });
  if (dropped) c.log.debug({ id: e.id }, 'surplus copy handed off');
}

/** Each placement peer's view of the batch's ids. */
async function askHave(
  c: RepairComponents,
  ns: string,
  batch: PairIndex['surplus'],
): Promise<HaveViews> {
  const ask = new Map<string, string[]>();
  for (const { e, placement } of batch) {
    for (const p of placement) upsert(ask, p, () => []).push(e.id);
  }
  const out: HaveViews = new Map();
  await Promise.all(
    [...ask].map(async ([peer, ids]) => {
      try {
        const { msg } = await c.rpc.request(
          peer,
          { type: 'repair-have', ns, ids },
          {
            expect: 'repair-have-reply',
            timeoutMs: c.config.repair.requestTimeoutMs,
            countBytes: (n) => {
              c.tally.summaryBytes += n;
            },
          },
        );
        const m = new Map<string, PeerHolding>();
        for (const [id, v, at, keeps] of msg.entries) m.set(id, { id, v, at, keeps });
        out.set(peer, m);
      } catch (err) {
        c.log.debug({ peer, code: errorCode(err) }, 'holdings query failed');
      }
    }),
  );
  return out;
}
