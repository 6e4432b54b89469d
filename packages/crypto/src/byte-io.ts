// Small stream helpers shared by the copy functions: accept Node streams or async iterables
// as byte sources, and write to a Writable honouring backpressure and cancellation.
import type { Writable } from 'node:stream';
import { AbortedError, ClosedError, InvalidArgumentError } from './errors.js';

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new InvalidArgumentError('byte source yielded a non-byte chunk');
}

const ignore = () => {};

/**
 * Keeps a Readable source's 'error' from going unheard (an uncaught exception) while the copy
 * waits on the destination before it starts iterating; the iterator still reports the error.
 * Returns the undo.
 */
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

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
}

/** Writes one chunk; waits for 'drain' when the destination's buffer is full. */
export async function writeChunk(
  dst: Writable,
  chunk: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (dst.destroyed || dst.writableEnded) {
    throw new ClosedError('destination is closed', { cause: dst.errored ?? undefined });
  }
  if (dst.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      dst.off('drain', onDrain);
      dst.off('error', onError);
      dst.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(
        new ClosedError('destination closed before drain', { cause: dst.errored ?? undefined }),
      );
    };
    const onAbort = () => {
      cleanup();
      reject(new AbortedError(undefined, { cause: signal?.reason }));
    };
    dst.on('drain', onDrain);
    dst.on('error', onError);
    dst.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function endWritable(dst: Writable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    dst.end((err?: Error | null) => (err ? reject(err) : resolve()));
  });
}
