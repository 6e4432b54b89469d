// `get` on the node's own machine: when the node's disk holds the version its catalog names
// current, the CLI opens that copy from the data dir itself (verified chunk by chunk, as the node
// would) instead of taking every byte through the node's HTTP API: one process and no socket in
// the way, about twice the rate of a local get through the API. A copy that fails verification
// or cannot be read part-way is continued by the node from the same byte (from another copy).

import { Readable } from 'node:stream';
import type { LocalCopies } from '@peerstash/fileserver/local-read';
import type { ApiClient } from './api-client.js';
import { copyWhole, cutShort, type Download } from './download.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** The copies in the node data dir `dir` the CLI may read itself; undefined when none. */
export async function localCopies(dir: string): Promise<LocalCopies | undefined> {
  const { openLocalCopies } = await import('@peerstash/fileserver/local-read');
  return openLocalCopies(dir).catch(() => undefined);
}

/**
 * A download from the local copy of `key`; undefined when `copies` holds none of the current
 * version (or of `want`) this process can read: the caller then asks the node.
 */
export async function startLocalDownload(
  client: ApiClient,
  copies: LocalCopies,
  key: string,
  signal: AbortSignal,
  /** The version the caller wants and its size (from a listing): the node is not asked. */
  want?: { version: string; size: number },
): Promise<Download | undefined> {
  const copy = await copies.find(key).catch(() => undefined);
  if (!copy) return undefined;
  // the catalog says which version is current (a copy may be stale, or its file deleted)
  const current = want ?? (await client.version(key, { signal }));
  if (current?.version !== copy.digest || current.size !== copy.size) return undefined;
  const local = await copy.open().catch(() => undefined);
  if (!local) return undefined;
  const size = copy.size;
  let received = 0;
  let rest: Readable | undefined;
  const changed = () =>
    new CliError(
      'ERR_CHANGED',
      EXIT.GENERIC,
      `"${key}" was replaced while it was being read`,
      'nothing partial was kept; run the get again',
    );
  // Chunks come joined as the iterator reads them (one copy of each byte); passing them on one by
  // one was slower here (300 against 450 MiB/s to a hashing reader: more, smaller writes)
  async function* body(): AsyncGenerator<Buffer> {
    const it = (local as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (err) {
        // only the copy's own failures (a rotten chunk, a failed read) are continued: an error
        // thrown in at the yield below is the output's, and ends the get
        if (signal.aborted) throw err;
        break;
      }
      if (r.done) return;
      received += r.value.length;
      yield r.value;
    }
    if (received >= size) return;
    const more = await client.get(key, { signal, from: received, ifVersion: copy!.digest });
    rest = more.stream;
    if (more.version !== copy!.digest) {
      more.stream.destroy();
      throw changed();
    }
    if (more.partial && (more.range?.start !== received || more.range.total !== size)) {
      more.stream.destroy();
      throw changed();
    }
    // a 200 of the same version (the node could not honour the range): skip what came already
    let skip = more.partial ? 0 : received;
    for await (const c of more.stream as AsyncIterable<Buffer>) {
      const piece = skip >= c.length ? undefined : c.subarray(skip);
      skip = Math.max(0, skip - c.length);
      if (!piece) continue;
      received += piece.length;
      yield piece;
    }
    if (!more.stream.complete) throw new Error('cut short');
  }
  const source = Readable.from(body(), { objectMode: false, highWaterMark: 1024 * 1024 });
  return {
    size,
    received: () => received,
    copyTo: (dest, opts = {}) =>
      copyWhole(source, dest, opts, signal, {
        whole: () => received === size,
        cutShort: () => cutShort(client, key, received, size),
      }),
    cancel: () => {
      source.destroy();
      local.destroy();
      rest?.destroy();
    },
  };
}
