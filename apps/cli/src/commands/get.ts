// `peerstash get`: streams a file from the local node (which fetches it from peers when needed).
// A file target is written to a temp name beside it and renamed only when every byte arrived.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
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
      const toStdout = argv.output === undefined || argv.output === '-';
      if (toStdout && argv.json) {
        throw new UsageError('--json writes to stdout, so the file cannot', 'add -o <file>');
      }
      const client = await ApiClient.fromDataDir(dir);
      const { stream, size } = await client.get(argv.key);
      const progress = createProgress(`get ${argv.key}`, size, !toStdout && isInteractive());
      let received = 0;
      stream.on('data', (c: Buffer) => {
        received += c.length;
      });
      const truncated = () =>
        new CliError(
          'ERR_TRANSFER',
          EXIT.GENERIC,
          `the node stopped sending "${argv.key}" part-way (${formatBytes(received)} of ${
            size === undefined ? '?' : formatBytes(size)
          })`,
          "nothing partial was kept; see the node's log, then retry",
        );
      const checkComplete = () => {
        if (!stream.complete || (size !== undefined && received !== size)) throw truncated();
      };
      try {
        if (toStdout) {
          await pipeline(stream, process.stdout, { end: false }).catch((err: unknown) => {
            if (!stream.complete) throw truncated();
            throw err;
          });
          checkComplete();
          return;
        }
        const target = argv.output!;
        const tmp = join(
          dirname(target),
          `.${basename(target)}.${randomBytes(6).toString('hex')}.peerstash-part`,
        );
        try {
          await pipeline(stream, progress.counter, createWriteStream(tmp, { flags: 'wx' })).catch(
            (err: unknown) => {
              if (!stream.complete && !(err as { syscall?: string }).syscall) throw truncated();
              throw err;
            },
          );
          checkComplete();
          await rename(tmp, target);
        } catch (err) {
          await unlink(tmp).catch(() => {});
          throw err;
        }
        progress.stop();
        if (argv.json) return writeJson({ key: argv.key, file: target, size: received });
        writeLine(`wrote ${target} (${formatBytes(received)})`);
      } finally {
        progress.stop();
      }
    },
  };
}
