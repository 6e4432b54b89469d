// `peerstash rm -r <folder>`: removes every file under a folder from the vault (everywhere), after
// a yes on the terminal (or --yes); without a terminal and without --yes it refuses, removing nothing.

import { folderPrefix } from '@peerstash/fileserver/paths';
import type { ApiClient } from '../api-client.js';
import { askYesNo, canAsk } from '../confirm.js';
import { writeJson, writeLine } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, printable } from '../format.js';
import { listFiles } from '../listing.js';
import { runPool } from '../pool.js';
import { TreeRun } from '../tree-run.js';

export interface RmTreeOptions {
  prefix: string;
  yes: boolean;
  jobs: number;
  json: boolean;
  verbose: boolean;
  signal: AbortSignal;
}

export async function rmTree(client: ApiClient, opts: RmTreeOptions): Promise<void> {
  const folder = folderPrefix(opts.prefix);
  if (folder === '') {
    throw new UsageError('rm -r needs a folder', 'name the folder to remove, e.g. "rm -r photos/"');
  }
  const nothing = () =>
    new CliError(
      'ERR_NOT_FOUND',
      EXIT.NOT_FOUND,
      `no file under "${printable(folder)}" in the vault`,
      'see "peerstash ls" for what is stored',
    );
  if (!opts.yes) {
    let files = 0;
    let bytes = 0;
    for await (const f of listFiles(client, { prefix: folder, signal: opts.signal })) {
      files++;
      bytes += f.size;
    }
    if (files === 0) throw nothing();
    const what = `${files} ${files === 1 ? 'file' : 'files'} (${formatBytes(bytes)}) under ${printable(folder)}`;
    if (!canAsk()) {
      throw new CliError(
        'ERR_CONFIRM',
        EXIT.USAGE,
        `rm -r would remove ${what}, and there is no terminal to confirm it on`,
        'add --yes to remove them',
      );
    }
    if (!(await askYesNo(`remove ${what}?`, opts.signal))) {
      writeLine('nothing removed');
      return;
    }
  }
  const run = new TreeRun({ verbose: opts.verbose });
  try {
    await runPool(
      listFiles(client, { prefix: folder, signal: opts.signal }),
      async (f) => {
        try {
          // Everywhere: the listing is the cluster's, so a folder removed only here would still be
          // listed (and repaired back); the tombstone takes each file out of every node's listing.
          const res = await client.delete(f.key, { everywhere: true });
          run.done(res.deleted || res.peers > 0 ? f.size : 0);
        } catch (err) {
          // removed by someone else since it was listed: what was asked for holds
          if ((err as { code?: string }).code === 'ERR_NOT_FOUND') return run.skipped(0);
          run.failed({ key: f.key }, err);
        }
      },
      { size: opts.jobs, signal: opts.signal },
    );
  } catch (err) {
    throw opts.signal.aborted ? opts.signal.reason : err;
  }
  const s = run.summary();
  if (s.done + s.skipped + s.failed === 0) throw nothing();
  if (opts.json) {
    const { done, skippedBytes: _unused, ...rest } = s;
    writeJson({ prefix: folder, removed: done, ...rest });
  } else {
    writeLine(`rm -r ${folder}: ${run.line('removed', 'already gone')}`);
  }
  run.finish('files');
}
