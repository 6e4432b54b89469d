// A copy of a file being read as plaintext (this node's disk or a peer's stream): the shape the
// read path, its fail-over and its source selection share, and the local copy's opener.

import { pipeline } from 'node:stream/promises';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { openRange, sealedRange } from '@peerstash/crypto';
import { NotFoundError } from '../errors.js';
import { chunkSizeOf, plainSizeOfBlob } from '../file-key.js';
import type { NodeCrypto } from '../node-crypto.js';

/** Plaintext bytes [start, end] of a file of `plainSize` bytes: what a ranged read opens. */
export interface PlainRange {
  start: number;
  end: number;
  plainSize: number;
}

/** Plaintext being read from one copy of a blob. */
export interface PlainSource {
  it: AsyncIterator<Buffer>;
  /** The first verified chunk, read before answering (null: empty file). */
  first: Buffer | null;
  size: number;
  digest: string;
  origin: 'local' | 'peer';
  peerId?: string;
  /** After the last chunk: waits for the side work (committing the local copy of a fetch). */
  finish(): Promise<void>;
  close(): void;
  /** Settles once an abandoned source's side work is undone (its partial local write discarded). */
  settled: Promise<unknown>;
}

/** Reads the first chunk of an opened stream: a rotten header fails here, before any answer. */
export async function firstChunk(
  it: AsyncIterator<Buffer>,
  close: () => void,
): Promise<Buffer | null> {
  try {
    const r = await it.next();
    return r.done ? null : r.value;
  } catch (err) {
    close();
    throw err;
  }
}

/**
 * Opens the local blob and reads its first verified chunk. With `want`, only that version will do
 * (another is ERR_NOT_FOUND); with `range`, only the header and the records covering it are read.
 */
export async function openLocal(
  cas: CasStore,
  crypto: NodeCrypto,
  vaultKey: Buffer,
  ns: string,
  id: string,
  want?: string,
  range?: PlainRange,
): Promise<PlainSource> {
  const other = () => new NotFoundError('the local copy is another version');
  const spans = (m: BlobMeta) => {
    // checked under the version read, so a concurrent overwrite is never planned for
    if (want !== undefined && m.digest !== want) throw other();
    const plan = sealedRange(range!, range!.plainSize, chunkSizeOf(m.extra));
    return [plan.header, plan.body];
  };
  const { stream, meta } = await cas.read(ns, id, range ? { spans } : {});
  if (want !== undefined && meta.digest !== want) {
    stream.destroy();
    throw other();
  }
  const opener = range ? openRange(vaultKey, range) : crypto.open(vaultKey);
  pipeline(stream, opener).catch(() => {
    // the error reaches the reader of `opener`
  });
  const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const close = () => opener.destroy();
  const first = await firstChunk(it, close);
  return {
    it,
    first,
    size: range?.plainSize ?? plainSizeOfBlob(meta),
    digest: meta.digest,
    origin: 'local',
    finish: async () => {},
    close,
    settled: Promise.resolve(),
  };
}
