// Repair's serving side: answer a peer's summary request and holdings query from the index, and
// apply the tombstones peers send.

import { ViewMismatchError } from '../errors.js';
import { placeReplicas } from '../placement.js';
import { applyTombstone } from '../tombstone-rules.js';
import { blobVersion, tombstoneVersion } from '../versions.js';
import { supersedes } from './catalog-order.js';
import type { RepairComponents } from './components.js';
import type { Holdings } from './holdings.js';
import type { RepairHave, RepairHaveReply, RepairSummary, RepairSummaryReply } from './messages.js';
import { answer, type Entry, SortedEntries } from './summary.js';

/** Registers the handlers of the repair messages peers send. */
export function answerRepair(c: RepairComponents, holdings: Holdings): void {
  c.rpc.handle('tombstone', (_peer, msg) =>
    applyTombstone(c, msg.ns, msg.id, msg.deletedAt, msg.origin),
  );
  c.rpc.handle('repair-summary', (peer, msg) => answerSummary(c, holdings, peer, msg));
  c.rpc.handle('repair-have', (peer, msg) => answerHave(c, holdings, peer, msg));
}

async function answerSummary(
  c: RepairComponents,
  holdings: Holdings,
  peer: string,
  msg: RepairSummary,
): Promise<void> {
  const idx = await holdings.index(false);
  let reply: RepairSummaryReply;
  if (idx.view !== msg.view) {
    // the two nodes place keys over different node sets; a later round will agree
    reply = {
      type: 'repair-summary-reply',
      reqId: msg.reqId,
      ok: false,
      code: new ViewMismatchError().code,
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
  await c.rpc.send(peer, reply).catch(() => {});
}

async function answerHave(
  c: RepairComponents,
  holdings: Holdings,
  peer: string,
  msg: RepairHave,
): Promise<void> {
  const idx = await holdings.index(false);
  const entries: RepairHaveReply['entries'] = [];
  for (const id of msg.ids) {
    // read fresh rather than from the index: a copy pushed a moment ago must count
    let e: Entry | undefined;
    const meta = await c.cas.stat(msg.ns, id).catch(() => undefined);
    if (meta) e = blobVersion(meta);
    const t = c.tombstones.get(msg.ns, id);
    if (t) {
      const tomb = tombstoneVersion(id, t.deletedAt);
      // the version the catalog names current outranks a tombstone that dates it by its start
      if (!e || supersedes(c.catalog, msg.ns, tomb, e)) e = tomb;
    }
    if (!e) continue;
    const keeps = placeReplicas(id, idx.members, c.config.replication).includes(c.nodeId);
    entries.push([id, e.v, e.at, keeps]);
  }
  const reply: RepairHaveReply = { type: 'repair-have-reply', reqId: msg.reqId, entries };
  await c.rpc.send(peer, reply).catch(() => {});
}
