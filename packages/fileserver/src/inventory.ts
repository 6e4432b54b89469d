// What this node holds, counted: a change counter bumped on every local write or delete, and the
// blob count and bytes across namespaces, read from the holdings index (O(namespaces), no walk).

import type { Holdings } from './catalog/holdings.js';

export interface Counts {
  blobs: number;
  /** Sealed bytes on this node's disk. */
  bytes: number;
}

export class Inventory {
  readonly #holdings: Holdings;
  #generation = 0;

  constructor(holdings: Holdings) {
    this.#holdings = holdings;
  }

  /** Advances on every local write or delete (a cheap staleness check for caches). */
  get generation(): number {
    return this.#generation;
  }

  /** A blob was written or deleted here: cached indexes are stale. */
  changed(): void {
    this.#generation++;
  }

  /** Blob count and bytes, from the counters the holdings index keeps. */
  async counts(): Promise<Counts> {
    return this.#holdings.count();
  }
}
