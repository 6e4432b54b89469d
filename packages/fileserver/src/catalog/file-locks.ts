// One lock per file of a node, keyed by its catalog: what decides between a file's catalog record
// and its local blob (a put's commit, a delete's or tombstone's removal of the blob) runs under
// it, so each sees the other's outcome, never a half of it.

import type { Catalog } from './catalog.js';

const tails = new WeakMap<Catalog, Map<string, Promise<unknown>>>();

/** Runs `fn` once every earlier holder of the lock of (ns, id) on this catalog's node is done. */
export function withFileLock<T>(
  catalog: Catalog,
  ns: string,
  id: string,
  fn: () => Promise<T>,
): Promise<T> {
  let locks = tails.get(catalog);
  if (!locks) {
    locks = new Map();
    tails.set(catalog, locks);
  }
  const key = `${ns}/${id}`;
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.catch(() => {});
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}
