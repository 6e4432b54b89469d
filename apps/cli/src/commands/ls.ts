// `peerstash ls`: the files this node holds (--all: every file in the cluster, with its copies),
// as a table or (--json) one JSON array.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { ellipsize, formatBytes, formatTable, printable } from '../format.js';

/** Narrower than this, a cut key says too little; the row wraps instead. */
const MIN_KEY_WIDTH = 24;

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
      const header = ['KEY', 'SIZE', 'CREATED', ...(argv.all ? ['COPIES'] : [])];
      const rest = files.map((f) => [
        formatBytes(f.size),
        f.createdAt === undefined ? '' : new Date(f.createdAt).toISOString(),
        ...(argv.all ? [String(f.copies ?? '')] : []),
      ]);
      // A key may be 4 KiB: the table keeps to the terminal's width (cut in the middle), --json
      // has every key whole.
      const others = header
        .slice(1)
        .map((h, i) => Math.max(h.length, ...rest.map((r) => r[i]!.length)) + 2)
        .reduce((a, b) => a + b, 0);
      const keyWidth = Math.max(MIN_KEY_WIDTH, (process.stdout.columns || 100) - others);
      const rows = files.map((f, i) => [ellipsize(printable(f.key), keyWidth), ...rest[i]!]);
      writeLine(formatTable(header, rows, new Set(argv.all ? [1, 3] : [1])));
    },
  };
}
