// `peerstash service print-unit`: a systemd unit that runs `peerstash serve` as a dedicated user
// on a data dir, for `systemctl enable --now peerstash` (see the README's three-machine guide).

import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { parseBootstrap } from '../addr.js';
import { BIN_PATH } from '../child-node.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson } from '../context.js';
import { UsageError } from '../errors.js';
import { renderUnit } from '../service-unit.js';
import { VERSION } from '../version.js';

const SHIM_PATH = fileURLToPath(new URL('../../bin/peerstash.js', import.meta.url));

interface PrintUnitArgs extends GlobalArgs {
  user: string;
  dataDir: string;
  bootstrap: string[];
}

/**
 * The `peerstash` found on PATH when it is this very program (its path stays the same across
 * upgrades, where the package's own folder may not), else this program's own file.
 */
async function programPath(): Promise<string> {
  const ours = new Set(
    await Promise.all([SHIM_PATH, BIN_PATH].map((p) => realpath(p).catch(() => p))),
  );
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, 'peerstash');
    const real = await realpath(candidate).catch(() => undefined);
    if (real && ours.has(real)) return candidate;
  }
  return BIN_PATH;
}

function printUnitCommand(_ctx: CliContext): CommandModule<GlobalArgs, PrintUnitArgs> {
  return {
    command: 'print-unit',
    describe: 'Print a systemd unit running "peerstash serve" as a dedicated user',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('user', {
          type: 'string',
          default: 'peerstash',
          describe: 'User (and group) the node runs as',
          requiresArg: true,
        })
        .option('data-dir', {
          type: 'string',
          default: '/var/lib/peerstash',
          describe: 'Data dir of the node, made by "peerstash init --dir" as that user',
          requiresArg: true,
        })
        .option('bootstrap', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'Address of a node to join, passed to serve (repeatable)',
        })
        .example(
          '$0 service print-unit | sudo tee /etc/systemd/system/peerstash.service',
          'install it',
        ) as unknown as Argv<PrintUnitArgs>,
    handler: async (argv) => {
      if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(argv.user)) {
        throw new UsageError(`bad --user "${argv.user}"`, 'give a user name such as peerstash');
      }
      const bootstrap = argv.bootstrap
        .flatMap((b) => b.split(','))
        .filter(Boolean)
        .map(parseBootstrap);
      const program = await programPath();
      const unit = renderUnit({
        user: argv.user,
        dataDir: resolve(argv.dataDir),
        node: process.execPath,
        program,
        bootstrap,
        version: VERSION,
      });
      // ProtectHome hides home dirs from the service: a Node or peerstash installed there won't run.
      for (const path of [process.execPath, program]) {
        if (/^\/(home|root)(\/|$)/.test(path)) {
          process.stderr.write(
            `peerstash: warning: ${path} is under a home dir, which the unit hides from the node (ProtectHome); install Node and peerstash system-wide, or edit ExecStart\n`,
          );
        }
      }
      if (argv.json) return writeJson({ unit });
      process.stdout.write(unit);
    },
  };
}

export function serviceCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'service',
    describe: 'Run the node as a system service (service print-unit)',
    builder: (y: Argv<GlobalArgs>) =>
      y.command(printUnitCommand(ctx)).demandCommand(1, 'give a service command: print-unit'),
    handler: () => {},
  };
}
