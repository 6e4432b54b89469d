// `peerstash keys export`: a copy of this node's key file for another machine; --storage-only
// leaves the vault key out, so the machine that gets it can store replicas and never read them.

import type { Argv, CommandModule } from 'yargs';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { assertInitialised, resolveDataDir, writeSecretFile } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { encodeKeyFile, type KeyFile, readKeyFile } from '../key-file.js';

interface ExportArgs extends GlobalArgs {
  storageOnly: boolean;
  output?: string;
}

function exportCommand(ctx: CliContext): CommandModule<GlobalArgs, ExportArgs> {
  return {
    command: 'export',
    describe:
      "Write this node's key file for another machine (stdout, or -o <file> with mode 0600)",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('storage-only', {
          type: 'boolean',
          default: false,
          describe: 'Leave the vault key out: for a machine that keeps sealed replicas only',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          describe: 'Write to this new file, mode 0600 ("-": stdout, the default)',
          requiresArg: true,
        })
        .example('$0 keys export --storage-only -o storage-keys.json', 'for a storage-only machine')
        .example(
          '$0 keys export -o keys.json',
          'for a machine that reads and writes files',
        ) as unknown as Argv<ExportArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      // yargs hands "-o -" over as "": both mean stdout.
      const toStdout = argv.output === undefined || argv.output === '-' || argv.output === '';
      if (toStdout && argv.json) {
        throw new UsageError('--json writes to stdout, so the key file cannot', 'add -o <file>');
      }
      await assertInitialised(dir);
      const keys = await readKeyFile(dir);
      if (!keys.clusterSecret) {
        throw new CliError(
          'ERR_NO_CLUSTER_SECRET',
          EXIT.USAGE,
          `${dir} has no cluster secret: its links are plain TCP, and no other node can join it`,
          'make the cluster with "peerstash init", which creates one',
        );
      }
      const out: KeyFile = {
        clusterSecret: keys.clusterSecret,
        ...(keys.vaultKey && !argv.storageOnly ? { vaultKey: keys.vaultKey } : {}),
      };
      const text = encodeKeyFile(out);
      if (toStdout) return void process.stdout.write(text);
      const file = argv.output!;
      await writeSecretFile(file, text).catch((err: { code?: string }) => {
        if (err.code !== 'EEXIST') throw err;
        throw new CliError(
          'ERR_EXISTS',
          EXIT.ALREADY_EXISTS,
          `${file} already exists`,
          'remove it first, or choose another -o <file>: a key file is never overwritten',
          { cause: err },
        );
      });
      const storageOnly = !out.vaultKey;
      if (argv.json) return writeJson({ file, storageOnly });
      writeLine(
        storageOnly
          ? `wrote ${file} (mode 0600): the cluster secret only, for "peerstash init --join ${file} --storage-only"`
          : `wrote ${file} (mode 0600): vault key and cluster secret, for "peerstash init --join ${file}"`,
      );
    },
  };
}

export function keysCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'keys',
    describe: "Handle this node's keys (keys export)",
    builder: (y: Argv<GlobalArgs>) =>
      y.command(exportCommand(ctx)).demandCommand(1, 'give a keys command: export'),
    handler: () => {},
  };
}
