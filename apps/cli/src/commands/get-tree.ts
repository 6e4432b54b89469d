// `peerstash get -r <prefix> -o <dir>`: restores every file under a folder of the vault to a local
// folder, a few at a time, each written atomically (temp name, rename), then prints a summary.

import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { LocalCopies } from '@peerstash/fileserver/local-read';
import { folderPrefix, InvalidPathError, pathUnder } from '@peerstash/fileserver/paths';
import type { ApiClient } from '../api-client.js';
import { writeJson, writeLine } from '../context.js';
import { downloadToFile, startDownload } from '../download.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { printable } from '../format.js';
import { type ListedFile, listFiles } from '../listing.js';
import { startLocalDownload } from '../local-download.js';
import { runPool } from '../pool.js';
import { createSharedProgress, isInteractive } from '../progress.js';
import { TreeRun } from '../tree-run.js';

export interface GetTreeOptions {
  prefix: string;
  /** The local folder to restore into; made when missing. */
  out: string;
  jobs: number;
  /** The node's own copies, read from its data dir when current (undefined: all through it). */
  copies?: LocalCopies | undefined;
  json: boolean;
  verbose: boolean;
  signal: AbortSignal;
}

export async function getTree(client: ApiClient, opts: GetTreeOptions): Promise<void> {
  const folder = folderPrefix(opts.prefix);
  const existing = await stat(opts.out).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(`${opts.out} is not a folder`, 'give -o a folder to restore into');
  }
  await mkdir(opts.out, { recursive: true });
  const root = await realpath(opts.out);
  const interactive = !opts.json && isInteractive();
  // The bar needs the total: one pass over the listing (metadata only) when someone watches.
  let files: number | undefined;
  let total: number | undefined;
  if (interactive) {
    files = 0;
    total = 0;
    for await (const f of listFiles(client, { prefix: folder, signal: opts.signal })) {
      files++;
      total += f.size;
    }
  }
  const bar = createSharedProgress(`get -r ${folder || '(top)'}`, total, interactive, files);
  const run = new TreeRun({ verbose: opts.verbose });
  try {
    await runPool(
      listFiles(client, { prefix: folder, signal: opts.signal }),
      async (f) => {
        try {
          await restore(client, opts, root, folder, run, bar, f);
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
  if (s.done + s.failed + s.skipped === 0) {
    throw new CliError(
      'ERR_NOT_FOUND',
      EXIT.NOT_FOUND,
      `no file under "${printable(folder)}" in the vault`,
      'see "peerstash ls" for what is stored',
    );
  }
  if (opts.json) {
    const { done, ...rest } = s;
    writeJson({ prefix: folder, dir: opts.out, written: done, ...rest });
  } else {
    writeLine(`get -r ${folder || '(top)'} -> ${opts.out}: ${run.line('written')}`);
  }
  run.finish('files');
}

/** Whether `path` is `root` or below it, after symlinks (a link in the tree must not lead out). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

async function restore(
  client: ApiClient,
  opts: GetTreeOptions,
  root: string,
  folder: string,
  run: TreeRun,
  bar: ReturnType<typeof createSharedProgress>,
  f: ListedFile,
): Promise<void> {
  let received = 0;
  try {
    // A stored key such as 'a/../../x' is refused, never written somewhere unexpected.
    const target = join(root, ...pathUnder(folder, f.key));
    await mkdir(dirname(target), { recursive: true });
    if (!inside(root, await realpath(dirname(target)))) {
      throw new InvalidPathError(`'${f.key}' leads out of ${opts.out} through a symlink`);
    }
    const dl =
      (opts.copies
        ? // the version listed, whose time the file gets: no HEAD per file
          await startLocalDownload(client, opts.copies, f.key, opts.signal, f)
        : undefined) ?? (await startDownload(client, f.key, opts.signal));
    const counter = bar.counter((n) => {
      received += n;
    });
    await downloadToFile(dl, target, { counter, mtimeMs: f.modified });
    run.done(dl.received());
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason;
    bar.advance(Math.max(0, f.size - received));
    run.failed({ key: f.key }, err);
  }
}
