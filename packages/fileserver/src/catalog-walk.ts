// After an unclean stop (or the first start of a data dir from before the catalog), a background
// walk of the blob store reconciles the holdings index and gives a blob without a record one.

import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import type { Catalog } from './catalog/catalog.js';
import type { Holding } from './catalog/holdings.js';
import type { CatalogRecord } from './catalog/record.js';
import { sealedNameFromExtra } from './catalog/record.js';
import { errorCode } from './errors.js';
import { holdingOf } from './held-store.js';
import type { Logger } from './logger.js';

export interface WalkComponents {
  nodeId: string;
  cas: CasStore;
  catalog: Catalog;
  log: Logger;
  /** Whether the node still runs (a stop ends the walk; the next start walks again). */
  live(): boolean;
}

export interface WalkReport {
  blobs: number;
  added: number;
  changed: number;
  removed: number;
  /** Records made from blob metadata (a put cut off before its record, or data from before it). */
  recorded: number;
  ms: number;
}

const RECORD_BATCH = 256;

/**
 * The record a blob's metadata describes, dated by its put time and this node, for a blob whose
 * record is missing; undefined when the metadata carries no sealed name.
 */
export function recordFromMeta(meta: BlobMeta, nodeId: string): CatalogRecord | undefined {
  const name = meta.extra?.name;
  if (typeof name !== 'string') return undefined;
  const h = holdingOf(meta);
  return {
    ns: meta.namespace,
    id: meta.key,
    hlc: { wall: h.at, counter: 0, node: nodeId },
    name: sealedNameFromExtra(name),
    deleted: false,
    version: meta.digest,
    size: h.size,
    sealedSize: meta.size,
  };
}

class WalkStopped extends Error {}

/**
 * Walks every blob once: holdings are rewritten from what is on disk (entries for blobs gone are
 * dropped), and blobs with no record, none quarantined, get one from their metadata (applied by
 * the merge rule: one older than the tombstones forgotten here is refused as stale).
 */
export async function reconcileWithBlobs(c: WalkComponents): Promise<WalkReport> {
  const started = performance.now();
  const { cas, catalog } = c;
  let blobs = 0;
  let recorded = 0;
  let batch: CatalogRecord[] = [];
  const flush = async () => {
    const results = await catalog.applyMany(batch);
    recorded += results.filter((r) => r.outcome === 'applied').length;
    batch = [];
  };
  async function* walk(): AsyncGenerator<Holding> {
    for (const ns of await cas.namespaces()) {
      for await (const meta of cas.list(ns)) {
        if (!c.live()) throw new WalkStopped();
        blobs++;
        yield holdingOf(meta);
        if (catalog.get(ns, meta.key) || catalog.isQuarantined(ns, meta.key)) continue;
        const r = recordFromMeta(meta, c.nodeId);
        if (r) batch.push(r);
        if (batch.length >= RECORD_BATCH) await flush();
      }
    }
    await flush();
  }
  await catalog.walkMark(false);
  const result = await catalog.holdings.reconcile(walk());
  await catalog.walkMark(true);
  return { blobs, ...result, recorded, ms: Math.round(performance.now() - started) };
}

/** Runs the walk in the background when the catalog asks for one; resolves when it is done. */
export function startWalk(c: WalkComponents): Promise<void> {
  if (!c.catalog.needsWalk) return Promise.resolve();
  c.log.info({}, 'reconciling the holdings index with the blob store (last stop was not clean)');
  return reconcileWithBlobs(c).then(
    (r) => c.log.info(r, 'holdings index reconciled'),
    (err) => {
      if (err instanceof WalkStopped || !c.live()) return;
      c.log.warn({ code: errorCode(err), err }, 'holdings walk failed');
    },
  );
}
