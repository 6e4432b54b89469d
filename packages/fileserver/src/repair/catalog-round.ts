// The catalog part of a repair round, run before the blobs are compared: records synced with
// every live peer (roots, then summaries, then records), and tombstones past their TTL pruned.

import { type RoundReport, syncRound } from '../catalog/sync.js';
import type { RepairComponents } from './components.js';

export interface CatalogRoundReport extends RoundReport {
  pruned: number;
}

/**
 * Syncs the catalog with every connected peer; a peer that fails is logged and left for the next
 * round (a stop fails the requests in flight, so this ends at once then).
 */
export async function catalogRound(
  c: Pick<RepairComponents, 'catalog' | 'catalogRpc' | 'config' | 'log'>,
): Promise<CatalogRoundReport> {
  const pruned = await c.catalog.prune();
  const report = await syncRound(c.catalog, c.catalogRpc, {
    timeoutMs: c.config.repair.requestTimeoutMs,
  });
  for (const f of report.failed)
    c.log.info({ peer: f.peer, code: f.code }, 'catalog sync cut short');
  const t = report.totals;
  if (t.applied + t.pushed + t.quarantined > 0) {
    c.log.debug({ ...t, pruned }, 'catalog synced');
  }
  return { ...report, pruned };
}
