// Persistent delete tombstones: one small JSON file per (namespace, id) under <dataDir>/tombstones,
// written atomically, loaded at start and kept in memory for the repair rounds and store checks.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const TOMBSTONES_DIR = 'tombstones';
const HEX64 = /^[0-9a-f]{64}$/;

export interface Tombstone {
  ns: string;
  id: string;
  /** When the delete happened (ms since epoch); blobs put before it are gone. */
  deletedAt: number;
  /** Node id that took the delete. */
  origin: string;
}

export class TombstoneStore {
  readonly #root: string;
  readonly #map = new Map<string, Tombstone>();

  constructor(dataDir: string) {
    this.#root = join(dataDir, TOMBSTONES_DIR);
  }

  /** Reads every tombstone kept on disk; broken files (a crash mid-write) are removed. */
  async load(): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    for (const ns of await readdir(this.#root)) {
      if (!HEX64.test(ns)) continue;
      for (const name of await readdir(join(this.#root, ns))) {
        const path = join(this.#root, ns, name);
        if (!name.endsWith('.json')) {
          await rm(path, { force: true });
          continue;
        }
        try {
          const t = JSON.parse(await readFile(path, 'utf8')) as Tombstone;
          if (
            t.ns === ns &&
            HEX64.test(t.id) &&
            Number.isSafeInteger(t.deletedAt) &&
            typeof t.origin === 'string'
          ) {
            this.#map.set(`${ns}/${t.id}`, t);
            continue;
          }
        } catch {
          // fall through: not a tombstone
        }
        await rm(path, { force: true });
      }
    }
  }

  get size(): number {
    return this.#map.size;
  }

  get(ns: string, id: string): Tombstone | undefined {
    return this.#map.get(`${ns}/${id}`);
  }

  all(): IterableIterator<Tombstone> {
    return this.#map.values();
  }

  /**
   * Keeps `t` unless a tombstone at least as new is already there; true when kept. The map is
   * updated before the file is written, so the node acts on it at once.
   */
  async put(t: Tombstone): Promise<boolean> {
    const k = `${t.ns}/${t.id}`;
    const old = this.#map.get(k);
    if (old && old.deletedAt >= t.deletedAt) return false;
    this.#map.set(k, t);
    const dir = join(this.#root, t.ns);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${t.id}.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(t));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, `${t.id}.json`));
    return true;
  }

  /** Drops the tombstone of (ns, id) if it is no newer than `upTo` (all of it without). */
  async remove(ns: string, id: string, upTo = Number.POSITIVE_INFINITY): Promise<void> {
    const k = `${ns}/${id}`;
    const t = this.#map.get(k);
    if (!t || t.deletedAt > upTo) return;
    this.#map.delete(k);
    await rm(join(this.#root, ns, `${id}.json`), { force: true });
  }

  /** Removes tombstones older than `ttlMs`; returns how many went. */
  async prune(ttlMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const t of [...this.#map.values()]) {
      if (now - t.deletedAt > ttlMs) {
        await this.remove(t.ns, t.id);
        n++;
      }
    }
    return n;
  }
}
