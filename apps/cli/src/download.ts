// One download from the node, shared by `get` and `get -r`: the body copied to a destination,
// a body cut short told apart from a node gone away, and a file target written atomically.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from './api-client.js';
import { ApiError, CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { formatBytes } from './format.js';

export interface Download {
  /** Plaintext bytes the node announced, when it did. */
  readonly size: number | undefined;
  /** Bytes received so far. */
  received(): number;
  /** Copies the body to `dest` (through `counter`); a body cut short is an error, never a short success. */
  copyTo(dest: Writable, opts?: { end?: boolean; counter?: Transform }): Promise<void>;
  /** Drops the body (after a failure of ours). */
  cancel(): void;
}

export async function startDownload(
  client: ApiClient,
  key: string,
  signal: AbortSignal,
): Promise<Download> {
  const { stream, size } = await client.get(key, { signal });
  let received = 0;
  stream.on('data', (c: Buffer) => {
    received += c.length;
  });
  const truncated = () => cutShort(client, key, received, size);
  return {
    size,
    received: () => received,
    copyTo: (dest, opts = {}) =>
      copyWhole(stream, dest, opts, signal, {
        whole: () => stream.complete && (size === undefined || received === size),
        cutShort: truncated,
      }),
    cancel: () => stream.destroy(),
  };
}

/**
 * Copies `source` to `dest` (through `opts.counter`) and says why a copy is not whole: the
 * signal's reason, our own write failing (an error with a syscall: ENOSPC, EACCES), an error the
 * CLI or the node named, else `check.cutShort()` when the body stopped short of `check.whole()`.
 */
export async function copyWhole(
  source: Readable,
  dest: Writable,
  opts: { end?: boolean; counter?: Transform },
  signal: AbortSignal,
  check: { whole(): boolean; cutShort(): Promise<CliError> },
): Promise<void> {
  let failure: unknown;
  // an interrupt ends the source (the pipeline then fails), never the destination (stdout)
  const stop = () => source.destroy(signal.reason as Error);
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  const stages = opts.counter ? [source, opts.counter, dest] : [source, dest];
  await pipeline(stages as [Readable, Writable], { end: opts.end ?? true })
    .catch((err: unknown) => {
      failure = err;
    })
    .finally(() => signal.removeEventListener('abort', stop));
  if (signal.aborted) throw signal.reason;
  if (failure && (failure as { syscall?: string }).syscall) throw failure;
  if (failure instanceof CliError || failure instanceof ApiError) throw failure;
  if (failure || !check.whole()) throw await check.cutShort();
}

/**
 * The error for a body cut short. The node cuts a GET when its copy fails verification part-way
 * and no sound copy is left, or it went away: asking it whether it still answers tells the two
 * apart.
 */
export async function cutShort(
  client: ApiClient,
  key: string,
  received: number,
  size: number | undefined,
): Promise<CliError> {
  const part = `(${formatBytes(received)} of ${size === undefined ? '?' : formatBytes(size)})`;
  const alive = await client
    .status({ signal: AbortSignal.timeout(2000) })
    .then(() => true)
    .catch(() => false);
  return alive
    ? new CliError(
        'ERR_INTEGRITY',
        EXIT.INTEGRITY,
        `the node cut "${key}" part-way ${part}: no copy it could reach passed verification`,
        "nothing partial was kept; see the node's log",
      )
    : new CliError(
        'ERR_CONNECTION_LOST',
        EXIT.NODE_NOT_RUNNING,
        `the node stopped sending "${key}" part-way ${part} and no longer answers`,
        'nothing partial was kept; restart it with "peerstash serve", then retry',
      );
}

/**
 * Writes the download to `target` under a temp name beside it, renamed only once every byte
 * arrived: a failed or interrupted get leaves nothing. `mtimeMs` sets the file's time.
 */
export async function downloadToFile(
  dl: Download,
  target: string,
  opts: { counter?: Transform; mtimeMs?: number; mode?: number } = {},
): Promise<void> {
  // A name near the 255-byte limit must still leave room for the temp name's additions.
  const stem = [...basename(target)].slice(0, 32).join('');
  const tmp = join(dirname(target), `.${stem}.${randomBytes(6).toString('hex')}.peerstash-part`);
  try {
    await dl.copyTo(
      createWriteStream(tmp, { flags: 'wx', mode: opts.mode ?? 0o644, highWaterMark: 1024 * 1024 }),
      opts.counter ? { counter: opts.counter } : {},
    );
    if (opts.mtimeMs !== undefined && Number.isFinite(opts.mtimeMs)) {
      const t = opts.mtimeMs / 1000;
      await utimes(tmp, t, t);
    }
    await rename(tmp, target);
  } catch (err) {
    dl.cancel();
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
