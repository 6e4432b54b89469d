// `peerstash ls`: the files this node holds, as a table or (--json) one JSON array.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { formatBytes, formatTable, printable } from '../format.js';

export function lsCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'ls',
    describe: 'List the files this node holds',
    builder: (y: Argv<GlobalArgs>) => y,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const files = await client.list();
      files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (argv.json) return writeJson(files);
      if (files.length === 0) return writeLine('(no files)');
      const rows = files.map((f) => [
        printable(f.key),
        formatBytes(f.size),
        f.createdAt === undefined ? '' : new Date(f.createdAt).toISOString(),
      ]);
      writeLine(formatTable(['KEY', 'SIZE', 'CREATED'], rows, new Set([1])));
    },
  };
}
