// `peerstash put -r <dir> [--prefix p/]`: uploads a folder tree, a few files at a time, under one
// progress bar, skipping files the catalog already holds unchanged, then prints a summary.

import { open, stat } from 'node:fs/promises';
import { folderPrefix, keyForPath } from '@peerstash/fileserver/paths';
import type { ApiClient } from '../api-client.js';
import { writeJson, writeLine } from '../context.js';
import { UsageError } from '../errors.js';
import { compareKeys, type ListedFile, listFiles } from '../listing.js';
import { type TreeEntry, walkTree } from '../local-tree.js';
import { runPool } from '../pool.js';
import { createSharedProgress, isInteractive } from '../progress.js';
import { TreeRun } from '../tree-run.js';

export interface PutTreeOptions {
  /** The local folder. */
  root: string;
  /** Key prefix of the tree ('' the top of the vault). */
  prefix: string;
  force: boolean;
  jobs: number;
  exclude: string[];
  json: boolean;
  verbose: boolean;
  signal: AbortSignal;
  /** Turns a reset mid-upload into the node's reason, when it had one (see put.ts). */
  explainLost: (err: unknown) => Promise<unknown>;
}

interface Work {
  entry: TreeEntry;
  key?: string;
  /** Why no key can name this file (too long). */
  keyError?: unknown;
  /** The catalog's entry for the same key, when it has one. */
  stored?: ListedFile;
}

/**
 * Whether the catalog's copy can stand for the local file. The version is the digest of the
 * *sealed* blob, and sealing is salted, so it cannot be predicted here: a stored file counts as
 * this one when its size is the same and it was written no earlier than the file last changed.
 */
export function isUnchanged(
  stored: ListedFile | undefined,
  size: number,
  mtimeMs: number,
): boolean {
  return stored !== undefined && stored.size === size && stored.modified >= Math.floor(mtimeMs);
}

/** The local tree beside the catalog's listing of the prefix, both in key order (a merge join). */
async function* plan(
  opts: PutTreeOptions,
  folder: string,
  client: ApiClient,
): AsyncGenerator<Work> {
  const stored = opts.force
    ? undefined
    : listFiles(client, { prefix: folder, signal: opts.signal });
  let head = stored ? await stored.next() : undefined;
  try {
    for await (const entry of walkTree(opts.root, { exclude: opts.exclude })) {
      if (entry.kind !== 'file') {
        yield { entry };
        continue;
      }
      let key: string;
      try {
        key = keyForPath(folder, entry.rel);
      } catch (keyError) {
        yield { entry, keyError };
        continue;
      }
      // Listed keys before this one have no local file: passed over. A listing out of order
      // (keys over 1,900 bytes) only costs an upload, never a wrong skip.
      while (stored && head && !head.done && compareKeys(head.value.key, key) < 0) {
        head = await stored.next();
      }
      const match = head && !head.done && head.value.key === key ? head.value : undefined;
      yield { entry, key, ...(match ? { stored: match } : {}) };
    }
  } finally {
    await stored?.return(undefined);
  }
}

export async function putTree(client: ApiClient, opts: PutTreeOptions): Promise<void> {
  const st = await stat(opts.root);
  if (!st.isDirectory()) {
    throw new UsageError(
      `${opts.root} is not a folder`,
      'put -r takes a folder; put a file without -r',
    );
  }
  const folder = folderPrefix(opts.prefix);
  // A first walk for the bar's total: names and sizes only, nothing kept.
  let files = 0;
  let total = 0;
  for await (const e of walkTree(opts.root, { exclude: opts.exclude })) {
    if (e.kind !== 'file') continue;
    files++;
    total += e.size;
  }
  const bar = createSharedProgress(
    `put -r ${opts.root}`,
    total,
    !opts.json && isInteractive(),
    files,
  );
  const run = new TreeRun({ verbose: opts.verbose });
  try {
    await runPool(
      plan(opts, folder, client),
      async (w) => {
        try {
          await upload(client, opts, run, bar, w);
        } finally {
          bar.fileDone();
        }
      },
      { size: opts.jobs, signal: opts.signal },
    );
  } catch (err) {
    throw opts.signal.aborted ? opts.signal.reason : err;
  } finally {
    bar.stop();
  }
  const s = run.summary();
  if (opts.json) writeJson({ prefix: folder, uploaded: s.done, ...omitDone(s) });
  else writeLine(`put -r ${folder || '(top)'}: ${run.line('uploaded', 'skipped (unchanged)')}`);
  run.finish('files');
}

function omitDone<T extends { done: number }>(s: T): Omit<T, 'done'> {
  const { done: _done, ...rest } = s;
  return rest;
}

async function upload(
  client: ApiClient,
  opts: PutTreeOptions,
  run: TreeRun,
  bar: ReturnType<typeof createSharedProgress>,
  w: Work,
): Promise<void> {
  const { entry } = w;
  const rel = entry.rel.join('/');
  if (entry.kind === 'other') return run.skipped(0, `${entry.path}: a ${entry.what}, not a file`);
  if (entry.kind === 'bad-name') {
    const err = new UsageError(`the name is not valid UTF-8`, 'rename it to upload it');
    return run.failed({ key: rel, path: entry.path }, err);
  }
  if (w.key === undefined) {
    bar.advance(entry.size);
    return run.failed({ key: rel, path: entry.path }, w.keyError);
  }
  const key = w.key;
  if (!opts.force && isUnchanged(w.stored, entry.size, entry.mtimeMs)) {
    bar.advance(entry.size);
    return run.skipped(entry.size);
  }
  let sent = 0;
  try {
    const fh = await open(entry.path, 'r');
    try {
      const now = await fh.stat();
      const source = fh.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 });
      const counter = bar.counter((n) => {
        sent += n;
      });
      source.on('error', (err) => counter.destroy(err));
      await client
        .put(key, source.pipe(counter), { size: now.size, signal: opts.signal })
        .catch(async (err: unknown) => {
          if (opts.signal.aborted) throw opts.signal.reason;
          if ((err as { code?: string }).code === 'ERR_CONNECTION_LOST') {
            throw await opts.explainLost(err);
          }
          throw err;
        });
      run.done(now.size);
    } finally {
      await fh.close().catch(() => {});
    }
  } catch (err) {
    // keep the bar's total honest: the rest of this file will not move
    bar.advance(Math.max(0, entry.size - sent));
    run.failed({ key, path: entry.path }, err);
  }
}
