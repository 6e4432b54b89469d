// `peerstash rm`: deletes a file on the local node; `--everywhere` also on every peer holding it.
// Removing a key that nowhere existed is an error (exit 4), so scripts notice typos.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { printable } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import { checkKey, STORED_KEY_HINT } from '../key.js';
import { rmTree } from './rm-tree.js';

interface RmArgs extends GlobalArgs {
  key: string;
  everywhere: boolean;
  recursive: boolean;
  yes: boolean;
  jobs: number;
}

const MAX_JOBS = 64;

export function rmCommand(ctx: CliContext): CommandModule<GlobalArgs, RmArgs> {
  return {
    command: 'rm <key>',
    describe: 'Delete a file here (and with --everywhere on every peer); -r a folder tree',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('key', { type: 'string', demandOption: true, describe: 'Key to delete' })
        .option('everywhere', {
          type: 'boolean',
          default: false,
          describe: 'Also delete the replicas peers hold',
        })
        .option('recursive', {
          alias: 'r',
          type: 'boolean',
          default: false,
          describe: 'Delete every file under the folder <key> everywhere, after a confirmation',
        })
        .option('yes', {
          alias: 'y',
          type: 'boolean',
          default: false,
          describe: 'With -r: do not ask (needed without a terminal)',
        })
        .option('jobs', {
          alias: 'j',
          type: 'number',
          default: 4,
          describe: 'With -r: files deleted at once',
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
          return true;
        })
        .example('$0 rm -r photos/ --yes', 'every file under photos/') as unknown as Argv<RmArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      if (argv.recursive) return rmRecursive(argv, dir);
      checkKey(argv.key, STORED_KEY_HINT);
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const res = await client.delete(argv.key, { everywhere: argv.everywhere });
      if (!res.deleted && res.peers === 0) {
        throw new CliError(
          'ERR_NOT_FOUND',
          EXIT.NOT_FOUND,
          `no file "${argv.key}" ${argv.everywhere ? 'on this node or its peers' : 'on this node'}`,
          'check the key with "peerstash ls"',
        );
      }
      if (argv.json) return writeJson({ key: argv.key, ...res });
      const where = [res.deleted ? 'here' : '', res.peers > 0 ? `on ${res.peers} peer(s)` : '']
        .filter(Boolean)
        .join(' and ');
      writeLine(`removed ${printable(argv.key)} ${where}`);
    },
  };
}

async function rmRecursive(argv: RmArgs, dir: string): Promise<void> {
  const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
  const interrupt = onInterrupt();
  try {
    await rmTree(client, {
      prefix: argv.key,
      yes: argv.yes,
      jobs: argv.jobs,
      json: argv.json,
      verbose: argv.verbose,
      signal: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
  }
}
