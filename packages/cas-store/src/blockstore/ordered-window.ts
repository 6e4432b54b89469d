// Runs an async job per item with a bounded number in flight, yielding results in input order.
// putMany/deleteMany use it: fsync-bound writes need parallelism, callers need results in order.

/**
 * Pulls items from `source` and runs `job` on each, at most `limit` at a time, yielding each
 * result in the order the items came. After a job fails, no new item is pulled; the results
 * before it are still yielded, then its error is thrown. On any exit (end, failure, or the caller
 * stopping early) it waits for the jobs already started to settle, so nothing keeps running
 * behind the caller's back.
 */
export async function* orderedWindow<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  limit: number,
  job: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const running: Promise<R>[] = [];
  let failed = false;
  try {
    for await (const item of source) {
      const p = job(item);
      running.push(p);
      p.catch(() => {
        failed = true;
      });
      while (running.length >= limit || (failed && running.length > 0)) {
        yield await running.shift()!;
      }
    }
    while (running.length > 0) yield await running.shift()!;
  } finally {
    await Promise.allSettled(running);
  }
}
