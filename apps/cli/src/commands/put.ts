// `peerstash put`: streams a file (or stdin) to the local node, which seals and replicates it.
// The file is opened before the node is contacted, so a bad path fails fast with its own error.

import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, printable } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import { checkKey } from '../key.js';
import { createProgress, isInteractive } from '../progress.js';
import { putTree } from './put-tree.js';

interface PutArgs extends GlobalArgs {
  file: string;
  key?: string;
  recursive: boolean;
  prefix?: string;
  force: boolean;
  jobs: number;
  exclude: string[];
}

/** More uploads at once than this gain nothing on one node and only add memory. */
const MAX_JOBS = 64;

export function putCommand(ctx: CliContext): CommandModule<GlobalArgs, PutArgs> {
  return {
    command: 'put <file>',
    describe:
      'Store a file ("-" for stdin), or with -r a folder tree, on the node and its replicas',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('file', {
          type: 'string',
          demandOption: true,
          describe: 'Path, or - for stdin',
        })
        .option('key', {
          type: 'string',
          describe: 'Key to store it under (default: the file name)',
          requiresArg: true,
        })
        .option('recursive', {
          alias: 'r',
          type: 'boolean',
          default: false,
          describe: 'Upload the folder <file> and everything below it, keys as paths',
        })
        .option('prefix', {
          type: 'string',
          describe: 'With -r: the folder to store the tree under (default: the top of the vault)',
          requiresArg: true,
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'With -r: upload every file, also those already stored unchanged',
        })
        .option('jobs', {
          alias: 'j',
          type: 'number',
          default: 4,
          describe: 'With -r: files uploaded at once',
          requiresArg: true,
        })
        .option('exclude', {
          type: 'string',
          array: true,
          default: [],
          describe: 'With -r: leave out files and folders of this name (* and ? match), repeatable',
          requiresArg: true,
        })
        .check((a) => {
          const jobs = a.jobs as number;
          if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= MAX_JOBS)) {
            throw new UsageError(
              `bad --jobs ${String(jobs)}`,
              `give a whole number 1..${MAX_JOBS}`,
            );
          }
          if (a.recursive && a.key !== undefined) {
            throw new UsageError('--key names one file', 'with -r give --prefix <folder/>');
          }
          if (!a.recursive && (a.prefix !== undefined || (a.exclude as string[]).length > 0)) {
            throw new UsageError('--prefix and --exclude go with -r', 'add -r to upload a folder');
          }
          return true;
        })
        .example('$0 put photo.jpg', 'stored under "photo.jpg"')
        .example('$0 put -r ./photos --prefix photos/', 'a folder tree under photos/')
        .example('tar c dir | $0 put - --key dir.tar', 'from stdin') as unknown as Argv<PutArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      if (argv.recursive) return putRecursive(argv, dir);
      // yargs hands a lone "-" to a string positional as "" (never a valid path): both mean stdin.
      const fromStdin = argv.file === '-' || argv.file === '';
      const key = argv.key ?? (fromStdin ? undefined : basename(argv.file));
      if (key === undefined) throw new UsageError('reading stdin needs a key', 'add --key <name>');
      checkKey(key, {
        empty: 'give a name with --key <name>',
        long: 'give a shorter --key: it names the file, the content goes in the file',
      });

      let source: Readable;
      let size: number | undefined;
      let close = async () => {};
      if (fromStdin) {
        source = process.stdin;
      } else {
        const fh = await open(argv.file, 'r');
        close = () => fh.close().catch(() => {});
        const st = await fh.stat();
        if (st.isDirectory()) {
          await close();
          throw new UsageError(
            `${argv.file} is a directory`,
            'give a file, or pipe a tar to "put -"',
          );
        }
        size = st.isFile() ? st.size : undefined;
        source = fh.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 });
      }
      try {
        const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
        const progress = createProgress(`put ${key}`, size, !argv.json && isInteractive());
        source.on('error', (err) => progress.counter.destroy(err));
        // Ctrl-C aborts the request: the node then keeps nothing of this put.
        const interrupt = onInterrupt();
        try {
          const res = await client
            .put(key, source.pipe(progress.counter), {
              ...(size !== undefined ? { size } : {}),
              signal: interrupt.signal,
            })
            .catch(async (err: unknown) => {
              if (interrupt.signal.aborted) throw interrupt.signal.reason;
              if ((err as { code?: string }).code === 'ERR_CONNECTION_LOST') {
                throw await explainLostUpload(client, err);
              }
              throw err;
            });
          progress.stop();
          if (argv.json) return writeJson(res);
          writeLine(
            `stored ${printable(res.key)} (${formatBytes(res.size)}, ${res.replicas} ${
              res.replicas === 1 ? 'replica' : 'replicas'
            })`,
          );
        } finally {
          interrupt.dispose();
          progress.stop();
        }
      } finally {
        await close();
      }
    },
  };
}

async function putRecursive(argv: PutArgs, dir: string): Promise<void> {
  if (argv.file === '-' || argv.file === '') {
    throw new UsageError('put -r reads a folder, not stdin', 'give a folder path');
  }
  const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
  const interrupt = onInterrupt();
  try {
    await putTree(client, {
      root: argv.file,
      prefix: argv.prefix ?? '',
      force: argv.force,
      jobs: argv.jobs,
      exclude: argv.exclude.map(String),
      json: argv.json,
      verbose: argv.verbose,
      signal: interrupt.signal,
      explainLost: (err) => explainLostUpload(client, err),
    });
  } finally {
    interrupt.dispose();
  }
}

/**
 * A node that refuses a put early (wrong token, storage-only) answers and closes while the body
 * is still on its way; the reset can beat its answer to this process. Asking again, without a
 * body, recovers the reason.
 */
async function explainLostUpload(client: ApiClient, lost: unknown): Promise<unknown> {
  let st: Record<string, unknown>;
  try {
    st = await client.status({ signal: AbortSignal.timeout(2000) });
  } catch (err) {
    // An answer (401 ...) is the reason; no answer means the node really went away.
    return err instanceof ApiError ? err : lost;
  }
  if (st.storageOnly === true) {
    return new ApiError(403, 'ERR_NO_VAULT_KEY', 'this node has no vault key (storage-only)');
  }
  return new CliError(
    'ERR_UPLOAD_CUT',
    EXIT.GENERIC,
    'the node closed the connection before it had the whole file',
    "nothing was stored; see the node's log, then retry",
    { cause: lost },
  );
}
