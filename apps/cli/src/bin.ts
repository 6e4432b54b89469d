#!/usr/bin/env node
// Entry point of the `peerstash` command: runs main() and exits with its code.
// stdout is drained first so piped output is never cut short.

import { main } from './cli.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A reader gone away (EPIPE) destroyed stdout: nothing will drain.
if (process.stdout.writableLength > 0 && !process.stdout.destroyed)
  process.stdout.once('drain', () => process.exit(code));
else process.exit(code);
