// The CLI's error type and the mapping from any thrown error to one plain line and an exit code.
// Codes from the packages (ERR_*) and from Node (ENOENT, EACCES, ...) are matched anywhere in the cause chain.

import { EXIT, type ExitCode } from './exit-codes.js';
import { printable } from './format.js';

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** What the person can do about it; printed after the problem on the same line. */
  readonly hint: string | undefined;

  constructor(
    code: string,
    exitCode: ExitCode,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('ERR_USAGE', EXIT.USAGE, message, hint, options);
    this.name = 'UsageError';
  }
}

/** An error answer of the node's HTTP API (`{ code, message }` with a status). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

interface Coded {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
}

function* causes(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    yield cur;
    cur = (cur as { cause?: unknown }).cause;
  }
}

function findCode(err: unknown): { code: string; at: Coded } | undefined {
  for (const e of causes(err)) {
    if (e instanceof CliError) return { code: e.code, at: e as Coded };
    const c = (e as Coded)?.code;
    if (typeof c === 'string') return { code: c, at: e as Coded };
  }
  return undefined;
}

export interface ErrorContext {
  /** Data dir in use, named in hints. */
  dir?: string;
}

/** Maps anything thrown to a CliError with an exit code, keeping the original as cause. */
export function toCliError(err: unknown, ctx: ErrorContext = {}): CliError {
  if (err instanceof CliError) return err;
  const found = findCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const dirFlag = ctx.dir ? ` --dir ${ctx.dir}` : '';
  const where = (at: Coded) => (typeof at.path === 'string' ? at.path : '');
  const opts = { cause: err };
  switch (found?.code) {
    case 'ERR_NOT_FOUND':
      return new CliError(
        'ERR_NOT_FOUND',
        EXIT.NOT_FOUND,
        `not found: ${message}`,
        'check the key with "peerstash ls"',
        opts,
      );
    case 'ENOENT':
      return new CliError(
        'ENOENT',
        EXIT.NOT_FOUND,
        `no such file or directory: ${where(found.at) || message}`,
        'check the path',
        opts,
      );
    case 'ERR_INTEGRITY':
      return new CliError(
        'ERR_INTEGRITY',
        EXIT.INTEGRITY,
        `integrity check failed: ${message}`,
        'the stored data is damaged or was sealed with another vault key; no bytes were kept',
        opts,
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new CliError(
        found.code,
        EXIT.PERMISSION,
        `permission denied: ${where(found.at) || message}`,
        'check the owner and mode of that path, or choose another one',
        opts,
      );
    case 'ERR_NO_VAULT_KEY':
      return new CliError(
        'ERR_NO_VAULT_KEY',
        EXIT.PERMISSION,
        'this node is storage-only: without the vault key it cannot read, write or list files',
        'use a node initialised with the vault key (--dir / PEERSTASH_DIR)',
        opts,
      );
    case 'ERR_CLOSED':
      return new CliError(
        'ERR_CLOSED',
        EXIT.NODE_NOT_RUNNING,
        'the node is stopping',
        `start it again with "peerstash serve${dirFlag}"`,
        opts,
      );
    case 'ERR_LIMIT':
      return new CliError('ERR_LIMIT', EXIT.USAGE, `over a limit: ${message}`, undefined, opts);
    case 'ERR_AUTH':
      return new CliError(
        'ERR_AUTH',
        EXIT.PERMISSION,
        `the node refused the API token: ${message}`,
        'use the data dir of the node you are talking to (--dir / PEERSTASH_DIR)',
        opts,
      );
    case 'ENOSPC':
    case 'EDQUOT':
    case 'ERR_NO_SPACE':
      return new CliError(
        'ERR_NO_SPACE',
        EXIT.NO_SPACE,
        `no space left on device${where(found.at) ? `: ${where(found.at)}` : ''}`,
        'free some disk space or write somewhere else; nothing partial was kept',
        opts,
      );
    case 'EADDRINUSE': {
      const at = found.at;
      const addr =
        typeof at.address === 'string' && at.port !== undefined
          ? `${at.address}:${String(at.port)}`
          : message;
      return new CliError(
        'EADDRINUSE',
        EXIT.PORT_IN_USE,
        `address already in use: ${addr}`,
        'stop the other process or choose another port (--listen host:port, --api-port N)',
        opts,
      );
    }
    case 'EADDRNOTAVAIL':
      return new CliError(
        'EADDRNOTAVAIL',
        EXIT.USAGE,
        `cannot listen on that address: ${message}`,
        'use an address of this machine, or 0.0.0.0',
        opts,
      );
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return new CliError(
        'ERR_NODE_NOT_RUNNING',
        EXIT.NODE_NOT_RUNNING,
        'the node is not answering',
        `start it with "peerstash serve${dirFlag}"`,
        opts,
      );
    case 'ERR_TIMEOUT':
    case 'ETIMEDOUT':
      return new CliError(
        'ERR_TIMEOUT',
        EXIT.TIMEOUT,
        `timed out: ${message}`,
        'check that the node and its peers are up and reachable',
        opts,
      );
    case 'ERR_INVALID_KEY':
      return new CliError(
        'ERR_INVALID_KEY',
        EXIT.USAGE,
        message,
        'a key is a non-empty name of at most 4096 bytes of UTF-8',
        opts,
      );
    case 'ERR_INVALID_PATH':
      return new CliError(
        'ERR_INVALID_PATH',
        EXIT.USAGE,
        message,
        "with -r a key is a path: no leading '/', no empty segment ('a//b'), no '.' or '..'",
        opts,
      );
    case 'ERR_INVALID_ARGUMENT':
    case 'ERR_BAD_REQUEST':
      return new CliError(found.code, EXIT.USAGE, message, undefined, opts);
    case 'ENOTDIR':
    case 'EEXIST':
      return new CliError(
        found.code,
        EXIT.USAGE,
        `a file is in the way: ${where(found.at) || message}`,
        'give a folder path that is not taken by a file',
        opts,
      );
    case 'EISDIR':
      return new CliError(
        'EISDIR',
        EXIT.USAGE,
        `is a directory: ${where(found.at) || message}`,
        'give a file path',
        opts,
      );
    case 'ERR_ABORTED':
    case 'ABORT_ERR':
      return new CliError('ERR_ABORTED', EXIT.INTERRUPTED, 'interrupted', undefined, opts);
    default:
      return new CliError(found?.code ?? 'ERR_UNKNOWN', EXIT.GENERIC, message, undefined, opts);
  }
}

/** The one line a person sees; `verbose` adds the stack and causes. */
export function formatError(err: CliError, verbose: boolean): string {
  // Messages can quote keys and paths: no control character reaches the terminal, no line break.
  const line = printable(`peerstash: ${err.message}${err.hint ? `; ${err.hint}` : ''}`);
  if (!verbose) return line;
  const parts = [line];
  for (const e of causes(err)) {
    if (e instanceof Error && e.stack) parts.push(e.stack);
    else if (e !== err) parts.push(String(e));
  }
  return parts.join('\n');
}

/** With --json, the error line is JSON too, for scripts: `{ "error": { code, exitCode, message, hint? } }`. */
export function formatErrorJson(err: CliError): string {
  return JSON.stringify({
    error: {
      code: err.code,
      exitCode: err.exitCode,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
    },
  });
}
