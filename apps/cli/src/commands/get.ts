// `peerstash get`: streams a file from the local node (which fetches it from peers when needed).
// A file target is written to a temp name beside it and renamed only when every byte arrived.

import type { Stats } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { downloadToFile, startDownload } from '../download.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { stdoutBytes } from '../fd-sink.js';
import { formatBytes } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import { checkKey, STORED_KEY_HINT } from '../key.js';
import { localCopies, startLocalDownload } from '../local-download.js';
import { createProgress, isInteractive } from '../progress.js';
import { getTree } from './get-tree.js';

interface GetArgs extends GlobalArgs {
  key: string;
  output?: string;
  recursive: boolean;
  jobs: number;
  local: boolean;
}

const MAX_JOBS = 64;

export function getCommand(ctx: CliContext): CommandModule<GlobalArgs, GetArgs> {
  return {
    command: 'get <key>',
    describe: 'Fetch a file to stdout or to -o <file>; with -r a folder tree to -o <dir>',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('key', {
          type: 'string',
          demandOption: true,
          describe: 'Key it was stored under',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          describe:
            'Write to this file ("-": stdout, the default); with -r the folder to restore into',
          requiresArg: true,
        })
        .option('recursive', {
          alias: 'r',
          type: 'boolean',
          default: false,
          describe: 'Restore every file under the folder <key> into -o <dir>',
        })
        .option('jobs', {
          alias: 'j',
          type: 'number',
          default: 4,
          describe: 'With -r: files fetched at once',
          requiresArg: true,
        })
        .option('local', {
          type: 'boolean',
          default: true,
          describe:
            "Read the node's own copy straight from its data dir when it holds the current " +
            'version (--no-local: every byte through the node)',
        })
        .check((a) => {
          const jobs = a.jobs as number;
          if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= MAX_JOBS)) {
            throw new UsageError(
              `bad --jobs ${String(jobs)}`,
              `give a whole number 1..${MAX_JOBS}`,
            );
          }
          return true;
        })
        .example('$0 get photo.jpg -o copy.jpg', 'to a file')
        .example('$0 get -r photos/ -o ./restored', 'a folder tree')
        .example('$0 get dir.tar | tar x', 'to stdout') as unknown as Argv<GetArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      if (argv.recursive) return getRecursive(argv, dir);
      checkKey(argv.key, STORED_KEY_HINT);
      // yargs hands "-o -" over as "" (never a valid path): both mean stdout.
      const toStdout = argv.output === undefined || argv.output === '-' || argv.output === '';
      if (toStdout && argv.json) {
        throw new UsageError('--json writes to stdout, so the file cannot', 'add -o <file>');
      }
      const target = toStdout ? undefined : argv.output!;
      const existing = target ? await stat(target).catch(() => undefined) : undefined;
      if (existing?.isDirectory()) {
        throw new UsageError(`${target} is a directory`, 'give a file path to -o');
      }
      if (target && !existing) {
        // Checked before any byte moves, so the error names the folder, not a temp file in it.
        const parent = await stat(dirname(target)).catch(() => undefined);
        if (!parent?.isDirectory()) {
          throw new CliError(
            'ENOENT',
            EXIT.NOT_FOUND,
            `no such folder: ${dirname(target)}`,
            'create it first, or write somewhere else',
          );
        }
      }

      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const interrupt = onInterrupt();
      try {
        await fetchTo(client, argv, dir, target, existing, interrupt.signal);
      } catch (err) {
        throw interrupt.signal.aborted ? interrupt.signal.reason : err;
      } finally {
        interrupt.dispose();
      }
    },
  };
}

async function getRecursive(argv: GetArgs, dir: string): Promise<void> {
  if (argv.output === undefined || argv.output === '-' || argv.output === '') {
    throw new UsageError('get -r writes a folder tree', 'add -o <dir> to say where');
  }
  const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
  const interrupt = onInterrupt();
  try {
    await getTree(client, {
      prefix: argv.key,
      copies: argv.local ? await localCopies(dir) : undefined,
      out: argv.output,
      jobs: argv.jobs,
      json: argv.json,
      verbose: argv.verbose,
      signal: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
  }
}

async function fetchTo(
  client: ApiClient,
  argv: GetArgs,
  dir: string,
  target: string | undefined,
  existing: Stats | undefined,
  signal: AbortSignal,
): Promise<void> {
  const copies = argv.local ? await localCopies(dir) : undefined;
  const dl =
    (copies ? await startLocalDownload(client, copies, argv.key, signal) : undefined) ??
    (await startDownload(client, argv.key, signal));
  const progress = createProgress(
    `get ${argv.key}`,
    dl.size,
    target !== undefined && isInteractive(),
  );
  const counter = progress.counter;
  try {
    if (!target) {
      // ended (flushed) unless it is process.stdout itself, which must stay open
      const out = stdoutBytes();
      return await dl.copyTo(out, { end: out !== process.stdout, counter });
    }
    if (existing && !existing.isFile()) {
      // A device or pipe (/dev/null, a fifo) is written in place: there is nothing to rename.
      await dl.copyTo(createWriteStream(target), { counter });
    } else {
      await downloadToFile(dl, target, { counter });
    }
    progress.stop();
    if (argv.json) return writeJson({ key: argv.key, file: target, size: dl.received() });
    writeLine(`wrote ${target} (${formatBytes(dl.received())})`);
  } finally {
    progress.stop();
  }
}
