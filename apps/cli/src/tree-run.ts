// Bookkeeping of one recursive command (put -r, get -r, rm -r): what was done, skipped and failed,
// a warning line per failed file, and which failures stop the whole run instead of one file.

import { CliError, formatError, toCliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { formatBytes, formatDuration, printable } from './format.js';

/** Failures that no other file would escape: the node, its token, its disk, time, Ctrl-C. */
const FATAL = new Set([
  'ERR_NODE_NOT_RUNNING',
  'ERR_CONNECTION_LOST',
  'ERR_CLOSED',
  'ERR_AUTH',
  'ERR_NO_VAULT_KEY',
  'ERR_NO_SPACE',
  'ERR_TIMEOUT',
  'ERR_ABORTED',
]);

/** Kept for --json; past this many, failures are only counted (a tree may hold millions). */
const MAX_LISTED_FAILURES = 100;

export interface Failure {
  key: string;
  path?: string;
  code: string;
  message: string;
}

export interface TreeSummary {
  /** Files moved (uploaded, written, removed). */
  done: number;
  /** Files left as they were (already stored, not a regular file). */
  skipped: number;
  failed: number;
  /** Plaintext bytes moved. */
  bytes: number;
  /** Bytes of the files skipped. */
  skippedBytes: number;
  ms: number;
  failures: Failure[];
}

export class TreeRun {
  readonly #started = performance.now();
  readonly #summary: TreeSummary = {
    done: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    skippedBytes: 0,
    ms: 0,
    failures: [],
  };
  #first: CliError | undefined;
  /** Where warnings go (stderr); a test may catch them. */
  readonly #warn: (line: string) => void;
  readonly #verbose: boolean;

  constructor(opts: { verbose?: boolean; warn?: (line: string) => void } = {}) {
    this.#verbose = opts.verbose ?? false;
    this.#warn = opts.warn ?? ((line) => process.stderr.write(`${line}\n`));
  }

  done(bytes: number): void {
    this.#summary.done++;
    this.#summary.bytes += bytes;
  }

  skipped(bytes: number, why?: string): void {
    this.#summary.skipped++;
    this.#summary.skippedBytes += bytes;
    if (why) this.#warn(printable(`peerstash: skipped ${why}`));
  }

  /**
   * One file failed: warns and goes on, unless the failure is the node's or the run's (node gone,
   * token refused, disk full, Ctrl-C): then it is thrown and ends the run.
   */
  failed(what: { key: string; path?: string }, err: unknown): void {
    const e = toCliError(err);
    if (FATAL.has(e.code) || e.exitCode === EXIT.INTERRUPTED) throw e;
    this.#summary.failed++;
    this.#first ??= e;
    if (this.#summary.failures.length < MAX_LISTED_FAILURES) {
      this.#summary.failures.push({
        ...what,
        code: e.code,
        message: e.message,
      });
    }
    const name = what.path ?? what.key;
    this.#warn(formatError(withMessage(e, `${name}: ${e.message}`), this.#verbose));
  }

  summary(): TreeSummary {
    return { ...this.#summary, ms: Math.round(performance.now() - this.#started) };
  }

  /** One line: `3 uploaded (1.20 MiB), 2 skipped, 0 failed in 1.4 s`. */
  line(doneVerb: string, skippedVerb = 'skipped'): string {
    const s = this.summary();
    const rate = s.ms > 0 && s.bytes > 0 ? `, ${formatBytes((s.bytes * 1000) / s.ms)}/s` : '';
    return (
      `${s.done} ${doneVerb} (${formatBytes(s.bytes)}), ${s.skipped} ${skippedVerb}, ` +
      `${s.failed} failed in ${formatDuration(s.ms)}${rate}`
    );
  }

  /** After the summary was printed: the run's exit, the first failure's code when any failed. */
  finish(what: string): void {
    const s = this.#summary;
    if (!this.#first) return;
    const of = s.done + s.skipped + s.failed;
    throw new CliError(
      this.#first.code,
      this.#first.exitCode,
      `${s.failed} of ${of} ${what} failed (first: ${this.#first.message})`,
      this.#first.hint,
      { cause: this.#first },
    );
  }
}

function withMessage(e: CliError, message: string): CliError {
  return new CliError(e.code, e.exitCode, message, e.hint, { cause: e });
}
