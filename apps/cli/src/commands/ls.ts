// `peerstash ls`: the files this node holds (--all: every file in the cluster, with its copies),
// as a table or (--json) one JSON array.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { formatBytes, formatTable, printable } from '../format.js';

interface LsArgs extends GlobalArgs {
  all: boolean;
}

export function lsCommand(ctx: CliContext): CommandModule<GlobalArgs, LsArgs> {
  return {
    command: 'ls',
    describe: 'List the files this node holds (--all: every file in the cluster)',
    builder: (y: Argv<GlobalArgs>) =>
      y.option('all', {
        type: 'boolean',
        default: false,
        describe: 'Ask every peer too: all files of the vault, with how many nodes hold each',
      }) as unknown as Argv<LsArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const files = await client.list({ all: argv.all });
      files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (argv.json) return writeJson(files);
      if (files.length === 0) return writeLine('(no files)');
      const rows = files.map((f) => [
        printable(f.key),
        formatBytes(f.size),
        f.createdAt === undefined ? '' : new Date(f.createdAt).toISOString(),
        ...(argv.all ? [String(f.copies ?? '')] : []),
      ]);
      const header = ['KEY', 'SIZE', 'CREATED', ...(argv.all ? ['COPIES'] : [])];
      writeLine(formatTable(header, rows, new Set(argv.all ? [1, 3] : [1])));
    },
  };
}
