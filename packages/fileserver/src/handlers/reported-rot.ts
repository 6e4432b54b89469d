// Serving side of integrity-report: a peer says the copy this node served failed verification;
// re-hash it (once at a time per blob) and drop that version if it is rotten.

import type { CasStore } from '@peerstash/cas-store';
import type { Inventory } from '../inventory.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { IntegrityReport } from '../messages.js';
import type { ServerMetrics } from '../metrics.js';
import type { Scrubber } from '../repair/scrub.js';

export interface ReportComponents {
  cas: CasStore;
  inventory: Inventory;
  life: Lifecycle;
  scrub: Pick<Scrubber, 'verify'>;
  metrics: ServerMetrics;
  log: Logger;
}

/** Checks a reported copy once at a time per blob (several peers may report the same one). */
export class ReportedRot {
  readonly #c: ReportComponents;
  readonly #checking = new Set<string>();

  constructor(components: ReportComponents) {
    this.#c = components;
  }

  /** A peer says the replica it got from us is bad: re-hash ours and drop it if it is. */
  async check(peerId: string, report: IntegrityReport): Promise<void> {
    const c = this.#c;
    const k = `${report.ns}/${report.id}`;
    if (this.#checking.has(k)) return;
    this.#checking.add(k);
    try {
      // the scrubber's check: the version read, EIO counted as rot, cut short by stop()
      const verdict = await c.scrub.verify(report.ns, report.id, { throttled: false });
      if (verdict === 'gone' || verdict.sound) return;
      // stop() may have come while the blob was read: nothing touches the data dir after it
      if (!c.life.live()) return;
      c.metrics.integrityFailures.inc({ source: 'local' });
      c.log.warn({ peer: peerId, id: report.id }, 'dropping a rotten replica a peer reported');
      // that version only: a sound one written meanwhile stays
      const { digest, createdAt } = verdict.meta;
      await c.cas
        .delete(report.ns, report.id, { ifMatch: { digest, createdAt } })
        .finally(() => c.inventory.changed());
    } finally {
      this.#checking.delete(k);
    }
  }
}
