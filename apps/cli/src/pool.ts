// A small bounded pool for the recursive commands: at most `size` items in flight, items pulled
// from an async iterable only as a worker frees up, so a million-file tree never sits in memory.

export interface PoolOptions {
  size: number;
  signal?: AbortSignal;
}

/**
 * Runs `work` on every item of `items`, `size` at a time. A `work` that throws stops the pool:
 * no new item is started, the ones in flight are awaited, and the first error is thrown. Per-item
 * failures that should not stop the run are for `work` to catch.
 */
export async function runPool<T>(
  items: AsyncIterable<T> | Iterable<T>,
  work: (item: T) => Promise<void>,
  opts: PoolOptions,
): Promise<void> {
  const size = Math.max(1, Math.floor(opts.size));
  const it =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  let failure: { err: unknown } | undefined;
  const stopped = () => failure !== undefined || opts.signal?.aborted === true;
  const worker = async () => {
    while (!stopped()) {
      let next: IteratorResult<T>;
      try {
        next = await it.next();
      } catch (err) {
        failure ??= { err };
        return;
      }
      if (next.done || stopped()) return;
      try {
        await work(next.value);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: size }, worker));
  } finally {
    // Lets the source close what it holds (a directory handle, a listing) when we stop early.
    try {
      await it.return?.();
    } catch {
      // the source failing to close changes nothing about the outcome
    }
  }
  if (failure) throw failure.err;
  opts.signal?.throwIfAborted();
}
