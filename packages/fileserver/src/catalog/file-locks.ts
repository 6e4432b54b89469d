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

/** Removals remembered per node, at most (the oldest forgotten first). */
const MAX_TAKEN = 4096;
const taken = new WeakMap<Catalog, Map<string, number>>();

/**
 * Notes, under the file's lock, that a delete rule removed this version of the file here: a put
 * of that version still finishing must then fail, whatever the node knows of the delete later
 * (a record push that never came, a later put's record outranking the tombstone).
 */
export function noteTaken(catalog: Catalog, ns: string, id: string, digest: string): void {
  let m = taken.get(catalog);
  if (!m) {
    m = new Map();
    taken.set(catalog, m);
  }
  const key = `${ns}/${id}/${digest}`;
  m.delete(key);
  m.set(key, Date.now());
  if (m.size > MAX_TAKEN) m.delete(m.keys().next().value as string);
}

/** Whether a delete rule removed this version here (see noteTaken); forgets it once asked. */
export function wasTaken(catalog: Catalog, ns: string, id: string, digest: string): boolean {
  const m = taken.get(catalog);
  return m?.delete(`${ns}/${id}/${digest}`) ?? false;
}
