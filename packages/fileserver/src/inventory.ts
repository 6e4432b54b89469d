// What this node holds, counted: a change counter bumped on every local write or delete, and the
// blob count and bytes across namespaces, scanned once per change and shared by concurrent callers.

import type { CasStore } from '@peerstash/cas-store';

export interface Counts {
  blobs: number;
  bytes: number;
}

export class Inventory {
  readonly #cas: CasStore;
  #generation = 0;
  #counted: (Counts & { gen: number }) | undefined;
  #counting: { gen: number; scan: Promise<Counts & { gen: number }> } | undefined;

  constructor(cas: CasStore) {
    this.#cas = cas;
  }

  /** Advances on every local write or delete (a cheap staleness check for caches). */
  get generation(): number {
    return this.#generation;
  }

  /** A blob was written or deleted here: cached counts and indexes are stale. */
  changed(): void {
    this.#generation++;
  }

  /** Blob count and bytes; reads every metadata file, so kept until the next change. */
  async counts(): Promise<Counts> {
    const gen = this.#generation;
    if (this.#counted && this.#counted.gen === gen) return this.#counted;
    if (!this.#counting || this.#counting.gen !== gen) {
      const scan = (async () => {
        let blobs = 0;
        let bytes = 0;
        for (const ns of await this.#cas.namespaces()) {
          for await (const meta of this.#cas.list(ns)) {
            blobs++;
            bytes += meta.size;
          }
        }
        const result = { gen, blobs, bytes };
        if (this.#generation === gen) this.#counted = result;
        return result;
      })();
      this.#counting = { gen, scan };
      scan
        .finally(() => {
          if (this.#counting?.scan === scan) this.#counting = undefined;
        })
        .catch(() => {});
    }
    return this.#counting.scan;
  }
}
