// Repair with one peer in one namespace: compare the keys both should hold by summaries, push
// what the peer lacks or holds older, and apply the newer tombstones it shows.

import { BOUNDS } from '../config.js';
import { CODES, FileServerError } from '../errors.js';
import { placeReplicas } from '../placement.js';
import { applyTombstone } from '../tombstone-rules.js';
import { isTomb } from '../versions.js';
import { standing, supersedes } from './catalog-order.js';
import { mapLimit, type RepairComponents } from './components.js';
import type { Held, PairIndex } from './holdings.js';
import type { RepairPusher } from './push.js';
import { reconcile, type SortedEntries } from './summary.js';

/** One round's bookkeeping across pairs: keys still lacking, and gaps left to another holder. */
export interface RoundState {
  /** `ns/id` of keys found lacking on a placement peer and not yet pushed successfully. */
  lacking: Set<string>;
  /** Gaps left to another holder in the previous round (peer/ns/id → when first seen). */
  deferredBefore: Map<string, number>;
  /** Gaps left to another holder in this round. */
  deferred: Map<string, number>;
}

/** Compares the keys this node and `peer` should both hold in `ns`; pushes what it lacks. */
export async function syncPair(
  c: RepairComponents,
  pusher: RepairPusher,
  peer: string,
  ns: string,
  idx: PairIndex,
  set: SortedEntries,
  round: RoundState,
): Promise<void> {
  const diffs = await reconcile(set, async (prefixes, root) => {
    const { msg } = await c.rpc.request(
      peer,
      { type: 'repair-summary', ns, view: idx.view, prefixes, ...(root ? { root } : {}) },
      {
        expect: 'repair-summary-reply',
        timeoutMs: c.config.repair.requestTimeoutMs,
        countBytes: (n) => {
          c.tally.summaryBytes += n;
        },
      },
    );
    if (!msg.ok) throw new FileServerError(msg.code ?? CODES.PROTOCOL, 'summary refused');
    return msg.parts;
  });
  const pushes: Held[] = [];
  const interval = c.config.repair.intervalMs;
  for (const d of diffs) {
    if (d.mine && standing(c.catalog, ns, d.mine) === 'stale') {
      // not the file's current version (or held back): the holder of that one pushes it
    } else if (d.mine && (!d.theirs || supersedes(c.catalog, ns, d.mine, d.theirs))) {
      // several holders see the same gap: the first in placement order fills it, the others
      // only if it is still open a round later (that one may lack the key too)
      const first = placeReplicas(d.id, idx.members, c.config.replication).find((n) => n !== peer);
      const slot = `${peer}/${ns}/${d.id}`;
      const since = round.deferredBefore.get(slot) ?? Date.now();
      const maxDefer = BOUNDS.repairDeferMaxMs;
      if (
        first === c.nodeId ||
        isTomb(d.mine) ||
        Date.now() - since >= Math.min(2 * (interval || maxDefer), maxDefer)
      ) {
        pushes.push({ ...d.mine, ns });
      } else {
        round.deferred.set(slot, since);
      }
    } else if (d.mine && d.theirs && isTomb(d.theirs)) {
      await applyTombstone(c, ns, d.id, d.theirs.at, peer);
    }
    // else the peer holds a newer blob: it pushes it here in its own round
  }
  for (const e of pushes) round.lacking.add(`${ns}/${e.id}`);
  await mapLimit(pushes, BOUNDS.repairConcurrentPushes, async (e) => {
    if (await pusher.push(peer, e)) round.lacking.delete(`${ns}/${e.id}`);
  });
}
