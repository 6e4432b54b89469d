// Copies a byte source into an open file while hashing it, in 1 MiB writes with bounded memory.
// Two staging buffers let the next chunk be gathered and hashed while the previous one is written.

import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { AbortError, InvalidArgumentError } from './errors.js';

export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

const STAGE = 1 << 20;
// The first staging buffer starts this small and grows to STAGE: a small file never pays for
// two 1 MiB buffers (garbage the collector must chase when thousands of small writes run).
const FIRST_STAGE = 64 << 10;
// Start flushing to disk every this many bytes, in the background, so the final fsync has
// little left to do: without it the kernel holds a large blob in page cache until that fsync.
const EARLY_FLUSH = 64 << 20;

async function writeAll(fh: FileHandle, buf: Uint8Array, length: number): Promise<void> {
  let off = 0;
  while (off < length) {
    const { bytesWritten } = await fh.write(buf, off, length - off, null);
    off += bytesWritten;
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new InvalidArgumentError('source must yield Uint8Array chunks');
}

function iteratorOf(source: ByteSource): AsyncIterator<unknown> | Iterator<unknown> {
  const s = source as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const asyncIt = s?.[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return asyncIt.call(s);
  const syncIt = s?.[Symbol.iterator];
  if (typeof syncIt === 'function' && typeof source !== 'string') return syncIt.call(s);
  throw new InvalidArgumentError('source must be a Readable or an (async) iterable of bytes');
}

const ignore = () => {};

/** Keeps an emitter source's 'error' from going unheard until the copy iterates it; returns the undo. */
export function holdErrors(source: unknown): () => void {
  const s = source as { on?: unknown; off?: unknown } | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.on !== 'function' ||
    typeof s.off !== 'function'
  ) {
    return ignore;
  }
  const emitter = s as { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
  emitter.on('error', ignore);
  return () => emitter.off('error', ignore);
}

export interface PumpResult {
  size: number;
  digest: string;
}

export async function pump(
  source: ByteSource,
  fh: FileHandle,
  signal?: AbortSignal,
): Promise<PumpResult> {
  const hash = createHash('sha256');
  const it = iteratorOf(source);
  let done = false;
  // Abort rejects only the pull in progress. Racing every pull against one long-lived promise
  // would leave a reaction per chunk on it, each holding its chunk until the write ends.
  let rejectPull: ((err: Error) => void) | undefined;
  const onAbort = () => rejectPull?.(new AbortError(undefined, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  const pull = (): Promise<IteratorResult<unknown>> | IteratorResult<unknown> => {
    const next = it.next();
    if (!signal) return next;
    return new Promise((resolve, reject) => {
      rejectPull = reject;
      Promise.resolve(next).then(resolve, reject);
    });
  };

  let stage: Buffer | undefined;
  let spare: Buffer | undefined;
  let used = 0;
  let flushed = false;
  let size = 0;
  let pending: Promise<void> | undefined;
  let flushing: Promise<void> | undefined;
  let unflushed = 0;
  const written = (n: number) => {
    unflushed += n;
    if (unflushed >= EARLY_FLUSH && !flushing) {
      unflushed = 0;
      flushing = fh.datasync().finally(() => {
        flushing = undefined;
      });
      flushing.catch(() => {});
    }
  };

  const flushStage = async () => {
    if (pending) await pending;
    const full = stage!;
    const len = used;
    pending = writeAll(fh, full, len);
    pending.catch(() => {});
    written(len);
    stage = spare;
    spare = full.length === STAGE ? full : undefined;
    used = 0;
    flushed = true;
  };

  try {
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const r = await pull();
      if (r.done) {
        done = true;
        break;
      }
      const chunk = toBytes(r.value);
      size += chunk.byteLength;
      if (used === 0 && chunk.byteLength >= STAGE / 4) {
        // Large chunk: write it in place while hashing it (the write runs on the thread pool),
        // but finish before pulling the next one, since a source may reuse its buffer.
        if (pending) await pending;
        pending = undefined;
        const writing = writeAll(fh, chunk, chunk.byteLength);
        writing.catch(() => {});
        hash.update(chunk);
        await writing;
        written(chunk.byteLength);
        continue;
      }
      hash.update(chunk);
      let off = 0;
      while (off < chunk.byteLength) {
        const left = chunk.byteLength - off;
        if (!stage) {
          stage = Buffer.allocUnsafe(
            flushed ? STAGE : Math.min(STAGE, Math.max(FIRST_STAGE, left)),
          );
        } else if (used + left > stage.length && stage.length < STAGE) {
          const grown = Buffer.allocUnsafe(
            Math.min(STAGE, Math.max(2 * stage.length, used + left)),
          );
          stage.copy(grown, 0, 0, used);
          stage = grown;
        }
        const n = Math.min(stage.length - used, left);
        stage.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === stage.length) await flushStage();
      }
    }
    if (used > 0) await flushStage();
    if (pending) await pending;
    if (flushing) await flushing;
    return { size, digest: hash.digest('hex') };
  } finally {
    // Never hand the file back to the caller (who closes it) with a write still in flight.
    if (pending) await pending.catch(() => {});
    if (flushing) await flushing.catch(() => {});
    signal?.removeEventListener('abort', onAbort);
    if (!done) {
      // Not awaited: a hung source must not hold the caller after abort.
      const ret = (it as AsyncIterator<unknown>).return?.();
      if (ret && typeof (ret as Promise<unknown>).then === 'function') {
        (ret as Promise<unknown>).then(undefined, () => {});
      }
      const d = (source as { destroy?: (e?: Error) => void }).destroy;
      if (typeof d === 'function') d.call(source);
    }
  }
}
