// A copy of a file being read as plaintext (this node's disk or a peer's stream): the shape the
// read path, its fail-over and its source selection share, and the local copy's opener.

import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import { open as openSealed } from '@peerstash/crypto';
import { plainSizeOfBlob } from '../file-key.js';

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

/** Opens the local blob and reads its first verified chunk. */
export async function openLocal(
  cas: CasStore,
  vaultKey: Buffer,
  ns: string,
  id: string,
): Promise<PlainSource> {
  const { stream, meta } = await cas.read(ns, id);
  const opener = openSealed(vaultKey);
  pipeline(stream, opener).catch(() => {
    // the error reaches the reader of `opener`
  });
  const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const close = () => opener.destroy();
  const first = await firstChunk(it, close);
  return {
    it,
    first,
    size: plainSizeOfBlob(meta),
    digest: meta.digest,
    origin: 'local',
    finish: async () => {},
    close,
    settled: Promise.resolve(),
  };
}
