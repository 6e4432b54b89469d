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

interface PutArgs extends GlobalArgs {
  file: string;
  key?: string;
}

export function putCommand(ctx: CliContext): CommandModule<GlobalArgs, PutArgs> {
  return {
    command: 'put <file>',
    describe: 'Store a file ("-" for stdin) on the local node and its replicas',
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
        .example('$0 put photo.jpg', 'stored under "photo.jpg"')
        .example('tar c dir | $0 put - --key dir.tar', 'from stdin') as unknown as Argv<PutArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
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
