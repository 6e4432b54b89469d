// `@peerstash/fileserver/local-read`: a node's own copy of a file read straight from its data dir,
// for a program on the node's machine (the CLI's `get`) that would otherwise take every byte
// through the node's HTTP API. It reads only: the node keeps owning the store, its catalog says
// which version is current, and every chunk is verified before it is released.

import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BlobMeta, CasStore } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace, open } from '@peerstash/crypto';
import { BLOBS_DIR, KEYS_FILE, readKeyFile } from './data-dir.js';
import { CODES, errorCode, NotFoundError } from './errors.js';
import { checkFileKey, plainSizeOfBlob } from './file-key.js';

/** One version of a file as this node's disk holds it. */
export interface LocalCopy {
  /** SHA-256 of the sealed blob: the version, as the catalog and the API's ETag name it. */
  readonly digest: string;
  /** Plaintext bytes. */
  readonly size: number;
  /**
   * The verified plaintext. A chunk that fails verification errors the stream (ERR_INTEGRITY)
   * before any of its bytes; a copy replaced or removed since it was found is ERR_NOT_FOUND.
   */
  open(): Promise<Readable>;
}

/** Finds copies in one data dir (its vault key read once). */
export interface LocalCopies {
  /**
   * The copy of `key`, or undefined when this disk holds none this process may read. Which
   * version is current is the catalog's to say: compare `digest` with the node's answer (the
   * API's ETag) before trusting the copy.
   */
  find(key: string): Promise<LocalCopy | undefined>;
}

/**
 * The copies in the node data dir `dataDir`, or undefined when none can be read from here: no
 * vault key in its keys.json (a storage-only node, or a key given at start only).
 */
export async function openLocalCopies(dataDir: string): Promise<LocalCopies | undefined> {
  const { vaultKey } = await readKeyFile(join(dataDir, KEYS_FILE)).catch(() => ({
    vaultKey: undefined,
  }));
  if (!vaultKey) return undefined;
  const ns = deriveNamespace(vaultKey);
  // never open()ed: that would sweep the running node's temp files
  const cas = new CasStore({ root: join(dataDir, BLOBS_DIR) });
  return {
    async find(key) {
      checkFileKey(key);
      const id = deriveFileId(vaultKey, key);
      const meta = await cas.stat(ns, id).catch(() => undefined);
      if (!meta) return undefined;
      return {
        digest: meta.digest,
        size: plainSizeOfBlob(meta),
        open: () => openCopy(cas, vaultKey, ns, id, meta),
      };
    },
  };
}

/** `openLocalCopies(dataDir)` then `find(key)`: one key's copy. */
export async function findLocalCopy(dataDir: string, key: string): Promise<LocalCopy | undefined> {
  checkFileKey(key);
  return (await openLocalCopies(dataDir))?.find(key);
}

async function openCopy(
  cas: CasStore,
  vaultKey: Buffer,
  ns: string,
  id: string,
  found: BlobMeta,
): Promise<Readable> {
  let read: Awaited<ReturnType<CasStore['read']>>;
  try {
    read = await cas.read(ns, id);
  } catch (err) {
    if (errorCode(err) === CODES.NOT_FOUND) throw new NotFoundError('the local copy is gone');
    throw err;
  }
  if (read.meta.digest !== found.digest) {
    read.stream.destroy();
    throw new NotFoundError('the local copy is another version now');
  }
  const opener = open(vaultKey);
  pipeline(read.stream, opener).catch(() => {
    // the error reaches the reader of `opener`
  });
  return opener;
}
