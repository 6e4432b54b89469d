// The read path's fail-over: plaintext from one copy of a file, continued from the next copy with
// the same digest at the same plaintext byte when the one being read goes bad mid-way.

import { CODES, errorCode } from '../errors.js';
import type { PlainSource } from './plain-source.js';

export interface FailoverHooks {
  /**
   * The next copy to read: only the blob with `digest` will do (bytes of it already went out);
   * `corrupt` says whether a copy failed verification so far (no copy left is then ERR_INTEGRITY).
   */
  next(digest: string, corrupt: boolean): Promise<PlainSource>;
  /** A copy broke off with `err` (already closed); told before the next one is asked for. */
  broken(source: PlainSource, err: unknown): void;
  /** Whether to try another copy at all (false once the node stops or the caller aborted). */
  mayContinue(): boolean;
  /** The last chunk went out and every copy given up on has settled. */
  done?(): void;
}

/**
 * Yields the plaintext of `first`, then of each copy `hooks.next` hands over when the current one
 * fails: a local copy only for ERR_INTEGRITY (any other local failure is the caller's), a peer's
 * for anything. When no copy can continue, the failure that broke the transfer is thrown rather
 * than a missing file. `rotten`: the local copy already failed before `first` was opened.
 */
export async function* failover(
  first: PlainSource,
  rotten: boolean,
  hooks: FailoverHooks,
): AsyncGenerator<Buffer> {
  let cur = first;
  let delivered = 0;
  let corrupt = rotten;
  const abandoned: Promise<unknown>[] = [];
  try {
    for (;;) {
      let skip = delivered;
      let pending = cur.first;
      cur.first = null;
      try {
        for (;;) {
          let c: Buffer;
          if (pending) {
            c = pending;
            pending = null;
          } else {
            const r = await cur.it.next();
            if (r.done) break;
            c = r.value;
          }
          if (skip > 0) {
            if (c.length <= skip) {
              skip -= c.length;
              continue;
            }
            c = c.subarray(skip);
            skip = 0;
          }
          delivered += c.length;
          yield c;
        }
        await cur.finish();
        // copies given up on leave nothing behind by the time the reader sees the end
        await Promise.allSettled(abandoned);
        hooks.done?.();
        return;
      } catch (err) {
        cur.close();
        abandoned.push(cur.settled);
        if (!hooks.mayContinue()) throw err;
        const code = errorCode(err);
        if (cur.origin === 'local' && code !== CODES.INTEGRITY) throw err;
        hooks.broken(cur, err);
        if (code === CODES.INTEGRITY) corrupt = true;
        try {
          cur = await hooks.next(first.digest, corrupt);
        } catch (next) {
          // nobody can continue: report why the transfer broke, not a missing file
          if (errorCode(next) === CODES.NOT_FOUND) throw err;
          throw next;
        }
      }
    }
  } finally {
    cur.close();
  }
}
