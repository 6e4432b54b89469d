// `peerstash ls [path]`: the cluster's files from the catalog, like `ls`: a folder's files and
// subfolders (trailing '/'), every key below it with -r, size, time and copies with -l; page by page.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, printable } from '../format.js';
import { listPages, PAGE_SIZE, statFile } from '../listing.js';
import { formatEntry, jsonEntry, LONG_HEADER, type LsEntry, mergePage } from '../ls-format.js';
import { stdoutSink } from '../stdout-sink.js';

/** The node's cap on one page (packages/fileserver, name-index.ts). */
const MAX_PAGE = 10_000;

interface LsArgs extends GlobalArgs {
  path?: string;
  recursive: boolean;
  long: boolean;
  pageSize: number;
  all: boolean;
}

export function lsCommand(ctx: CliContext): CommandModule<GlobalArgs, LsArgs> {
  return {
    command: 'ls [path]',
    describe: "List the cluster's files: a folder ('/' after folders), -r every file below it",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('path', {
          type: 'string',
          describe: 'A folder (photos/ or photos) or a file; default: the top of the vault',
        })
        .option('recursive', {
          alias: 'r',
          type: 'boolean',
          default: false,
          describe: 'Every file below the folder, as whole keys',
        })
        .option('long', {
          alias: 'l',
          type: 'boolean',
          default: false,
          describe: 'Size, time of the version and the nodes holding it (copies)',
        })
        .option('page-size', {
          type: 'number',
          default: PAGE_SIZE,
          describe: 'Entries asked of the node per request',
          requiresArg: true,
        })
        // Before the catalog, `ls` listed this node's files and --all the cluster's: every listing
        // is the cluster's now, and the flag is kept so scripts using it still run.
        .option('all', { type: 'boolean', default: false, hidden: true })
        .check((a) => {
          const n = a['page-size'] as number;
          if (!(Number.isInteger(n) && n >= 1 && n <= MAX_PAGE)) {
            throw new UsageError(
              `bad --page-size ${String(n)}`,
              `give a whole number 1..${MAX_PAGE}`,
            );
          }
          return true;
        })
        .example('$0 ls', 'the top of the vault')
        .example('$0 ls -l photos/', 'one folder, with size, time and copies')
        .example('$0 ls -r photos', 'every file below photos/') as unknown as Argv<LsArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      await listTo(client, argv);
    },
  };
}

async function listTo(client: ApiClient, argv: LsArgs): Promise<void> {
  const raw = argv.path ?? '';
  // 'photos' and 'photos/' both list the folder photos/; 'photos' may also be a file of its own.
  const folder = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  const fileKey = raw !== '' && !raw.endsWith('/') ? raw : undefined;
  const sink = stdoutSink();
  const totals = { files: 0, folders: 0, bytes: 0 };
  let first = true;
  const emit = async (e: LsEntry, name: string) => {
    if ('folder' in e) totals.folders++;
    else {
      totals.files++;
      totals.bytes += e.file.size;
    }
    if (argv.json) {
      await sink.write(`${first ? '[' : ','}\n${JSON.stringify(jsonEntry(e))}`);
    } else {
      if (first && argv.long) await sink.write(`${LONG_HEADER}\n`);
      await sink.write(`${formatEntry(e, name, argv.long)}\n`);
    }
    first = false;
  };
  try {
    const own = fileKey === undefined ? undefined : await statOrNone(client, fileKey);
    if (own) {
      const file = { ...own, copies: own.holders.length };
      await emit({ file }, own.key);
    }
    const pages = listPages(client, {
      prefix: folder,
      ...(argv.recursive ? {} : { delimiter: '/' }),
      limit: argv.pageSize,
    });
    for await (const page of pages) {
      for (const e of mergePage(page)) {
        const key = 'folder' in e ? e.folder : e.file.key;
        await emit(e, argv.recursive ? key : key.slice(folder.length));
      }
    }
    if (raw !== '' && totals.files + totals.folders === 0) {
      throw new CliError(
        'ERR_NOT_FOUND',
        EXIT.NOT_FOUND,
        `no file or folder "${printable(raw)}" in the vault`,
        'see "peerstash ls" for what is stored',
      );
    }
    if (argv.json) await sink.write(first ? '[]\n' : '\n]\n');
    else if (argv.long && !first) {
      const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
      await sink.write(
        `total: ${n(totals.files, 'file')}, ${n(totals.folders, 'folder')}, ${formatBytes(totals.bytes)}\n`,
      );
    }
  } finally {
    sink.close();
  }
}

/** A path that is no valid key (too long, say) names no file; the folder listing still runs. */
async function statOrNone(client: ApiClient, key: string) {
  try {
    return await statFile(client, key);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'ERR_INVALID_KEY') return undefined;
    throw err;
  }
}
