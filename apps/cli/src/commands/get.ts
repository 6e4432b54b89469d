// `peerstash get`: streams a file from the local node (which fetches it from peers when needed).
// A file target is written to a temp name beside it and renamed only when every byte arrived.

import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import { checkKey, STORED_KEY_HINT } from '../key.js';
import { createProgress, isInteractive } from '../progress.js';

interface GetArgs extends GlobalArgs {
  key: string;
  output?: string;
}

export function getCommand(ctx: CliContext): CommandModule<GlobalArgs, GetArgs> {
  return {
    command: 'get <key>',
    describe: 'Fetch a file to stdout or to -o <file>',
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
          describe: 'Write to this file ("-": stdout, the default)',
          requiresArg: true,
        })
        .example('$0 get photo.jpg -o copy.jpg', 'to a file')
        .example('$0 get dir.tar | tar x', 'to stdout') as unknown as Argv<GetArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
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
        await fetchTo(client, argv, target, existing, interrupt.signal);
      } catch (err) {
        throw interrupt.signal.aborted ? interrupt.signal.reason : err;
      } finally {
        interrupt.dispose();
      }
    },
  };
}

async function fetchTo(
  client: ApiClient,
  argv: GetArgs,
  target: string | undefined,
  existing: Stats | undefined,
  signal: AbortSignal,
): Promise<void> {
  const toStdout = target === undefined;
  const { stream, size } = await client.get(argv.key, { signal });
  const progress = createProgress(`get ${argv.key}`, size, !toStdout && isInteractive());
  let received = 0;
  stream.on('data', (c: Buffer) => {
    received += c.length;
  });
  /**
   * A body cut short: the node cuts a GET when its copy fails verification part-way and no sound
   * copy is left, or it went away. Asking it whether it still answers tells the two apart.
   */
  const truncated = async (): Promise<CliError> => {
    const part = `(${formatBytes(received)} of ${size === undefined ? '?' : formatBytes(size)})`;
    const alive = await client
      .status({ signal: AbortSignal.timeout(2000) })
      .then(() => true)
      .catch(() => false);
    return alive
      ? new CliError(
          'ERR_INTEGRITY',
          EXIT.INTEGRITY,
          `the node cut "${argv.key}" part-way ${part}: no copy it could reach passed verification`,
          "nothing partial was kept; see the node's log",
        )
      : new CliError(
          'ERR_CONNECTION_LOST',
          EXIT.NODE_NOT_RUNNING,
          `the node stopped sending "${argv.key}" part-way ${part} and no longer answers`,
          'nothing partial was kept; restart it with "peerstash serve", then retry',
        );
  };
  /** Copies the body to `dest`; a body cut short is an error, never a short success. */
  const copyTo = async (dest: Writable, end = true) => {
    let failure: unknown;
    await pipeline(stream, progress.counter, dest, { end }).catch((err: unknown) => {
      failure = err;
    });
    if (signal.aborted) throw signal.reason;
    // An error with a syscall is our own write failing (ENOSPC, EACCES): report that.
    if (failure && (failure as { syscall?: string }).syscall) throw failure;
    if (failure instanceof CliError) throw failure;
    if (failure || !stream.complete || (size !== undefined && received !== size)) {
      throw await truncated();
    }
  };

  try {
    if (!target) return await copyTo(process.stdout, false);
    if (existing && !existing.isFile()) {
      // A device or pipe (/dev/null, a fifo) is written in place: there is nothing to rename.
      await copyTo(createWriteStream(target));
    } else {
      const tmp = join(
        dirname(target),
        `.${basename(target)}.${randomBytes(6).toString('hex')}.peerstash-part`,
      );
      try {
        await copyTo(
          createWriteStream(tmp, { flags: 'wx', mode: 0o644, highWaterMark: 1024 * 1024 }),
        );
        await rename(tmp, target);
      } catch (err) {
        stream.destroy();
        await unlink(tmp).catch(() => {});
        throw err;
      }
    }
    progress.stop();
    if (argv.json) return writeJson({ key: argv.key, file: target, size: received });
    writeLine(`wrote ${target} (${formatBytes(received)})`);
  } finally {
    progress.stop();
  }
}
