// `peerstash rm`: deletes a file on the local node; `--everywhere` also on every peer holding it.
// Removing a key that nowhere existed is an error (exit 4), so scripts notice typos.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { printable } from '../format.js';
import { checkKey, STORED_KEY_HINT } from '../key.js';

interface RmArgs extends GlobalArgs {
  key: string;
  everywhere: boolean;
}

export function rmCommand(ctx: CliContext): CommandModule<GlobalArgs, RmArgs> {
  return {
    command: 'rm <key>',
    describe: 'Delete a file here (and with --everywhere on every peer)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('key', { type: 'string', demandOption: true, describe: 'Key to delete' })
        .option('everywhere', {
          type: 'boolean',
          default: false,
          describe: 'Also delete the replicas peers hold',
        }) as unknown as Argv<RmArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
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
