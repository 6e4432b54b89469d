// The yargs program: global options, the commands, and the one place errors become an exit code.
// `main` never throws and never prints a stack trace unless --verbose asks for one.

import yargs, { type Argv } from 'yargs';
import { demoCommand } from './commands/demo.js';
import { getCommand } from './commands/get.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys.js';
import { lsCommand } from './commands/ls.js';
import { putCommand } from './commands/put.js';
import { quarantineCommand } from './commands/quarantine.js';
import { rmCommand } from './commands/rm.js';
import { s3Command } from './commands/s3.js';
import { scrubCommand } from './commands/scrub.js';
import { serveCommand } from './commands/serve.js';
import { serviceCommand } from './commands/service.js';
import { statusCommand } from './commands/status.js';
import { uiCommand } from './commands/ui.js';
import type { CliContext, GlobalArgs } from './context.js';
import { formatError, formatErrorJson, toCliError, UsageError } from './errors.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { VERSION } from './version.js';

export { VERSION };

/** Builds the parser for `args`; it throws instead of exiting, so it can be tested in-process. */
export function buildParser(args: string[], ctx: CliContext): Argv<GlobalArgs> {
  return yargs(args)
    .scriptName('peerstash')
    .usage('$0 <command> [options]\n\nA peer-to-peer, encrypted, content-addressed file store.')
    .option('dir', {
      type: 'string',
      describe: 'Data dir of the node (default: $PEERSTASH_DIR, else ~/.peerstash)',
      global: true,
      requiresArg: true,
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Machine-readable output',
      global: true,
    })
    .option('timeout', {
      type: 'number',
      default: 120,
      describe: 'Seconds a request to the node may go without progress before giving up',
      global: true,
      requiresArg: true,
    })
    .option('verbose', {
      type: 'boolean',
      default: false,
      describe: 'Show stack traces on errors',
      global: true,
    })
    .check((a) => {
      if (!(Number.isFinite(a.timeout) && a.timeout > 0)) {
        throw new UsageError(`bad --timeout ${String(a.timeout)}`, 'give a number of seconds > 0');
      }
      return true;
    }, true)
    .command(initCommand(ctx))
    .command(serveCommand(ctx))
    .command(putCommand(ctx))
    .command(getCommand(ctx))
    .command(rmCommand(ctx))
    .command(lsCommand(ctx))
    .command(statusCommand(ctx))
    .command(scrubCommand(ctx))
    .command(quarantineCommand(ctx))
    .command(uiCommand(ctx))
    .command(keysCommand(ctx))
    .command(s3Command(ctx))
    .command(serviceCommand(ctx))
    .command(demoCommand(ctx))
    .demandCommand(1, 'give a command (see --help)')
    .recommendCommands()
    .strict()
    .version(VERSION)
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .epilog(EXIT_HELP)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own parse errors (a flag without its value) are usage, as its messages are
      if (err && err.name !== 'YError') throw err;
      // yargs spreads some messages over lines; the CLI promises one.
      const oneLine = (msg ?? err?.message ?? 'bad usage').replace(/\s*\n\s*/g, ' ');
      throw new UsageError(oneLine, 'see "peerstash --help"');
    }) as Argv<GlobalArgs>;
}

/** Runs the CLI with `args` (without node and script) and resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  // Read from the raw args: a parse error must honour them too.
  const ctx: CliContext = { verbose: args.includes('--verbose') };
  const json = args.includes('--json');
  try {
    // Help and version text come back here instead of going to console.log, so the output goes
    // to stdout in one write (and can be captured in-process).
    let shown = '';
    await buildParser(args, ctx).parseAsync(args, {}, (_err, _argv, output) => {
      shown = output;
    });
    if (shown) process.stdout.write(`${shown}\n`);
    return EXIT.OK;
  } catch (err) {
    const cliErr = toCliError(err, ctx.dir ? { dir: ctx.dir } : {});
    // The reader of a long output went away (`ls | head`): not an error to report.
    if (cliErr.code === 'EPIPE') return cliErr.exitCode;
    process.stderr.write(`${json ? formatErrorJson(cliErr) : formatError(cliErr, ctx.verbose)}\n`);
    return cliErr.exitCode;
  }
}
