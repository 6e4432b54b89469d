// Spreading a record this node wrote (a put's version, a delete's tombstone): sent to every
// connected peer at once, and waited for, before the write is acknowledged to its caller.

import type { Committed } from '../catalog/catalog.js';
import { type PushReport, pushRecords } from '../catalog/sync.js';
import type { CatalogConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { CatalogRpc } from '../net/catalog-rpc.js';

export interface PublishComponents {
  catalogRpc: CatalogRpc;
  config: { catalog: Pick<CatalogConfig, 'pushTimeoutMs'> };
  log: Logger;
}

/** Pushes `committed` to every peer; a peer that fails gets it from anti-entropy later. */
export function publish(c: PublishComponents, committed: Committed): Promise<PushReport> {
  return publishEncoded(c, committed.encoded);
}

/** publish() of a record's bytes: a put spreads them while its own transaction commits. */
export async function publishEncoded(
  c: PublishComponents,
  encoded: Uint8Array,
): Promise<PushReport> {
  const report = await pushRecords(c.catalogRpc, [encoded], {
    timeoutMs: c.config.catalog.pushTimeoutMs,
  });
  for (const f of report.failed) {
    c.log.info({ peer: f.peer, code: f.code }, 'a peer did not take a catalog record; repair will');
  }
  return report;
}
