// Questions about this node's own copy of a file (no peer asked): whether it holds one, and the
// copy's size, commit time and sealed digest.

import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { CODES, errorCode, NotFoundError } from '../errors.js';
import { plainSizeOfBlob } from '../file-key.js';
import { fileOf, type Vault } from '../vault.js';
import type { FileEntry } from './list.js';

export interface FileInfo extends FileEntry {
  /** SHA-256 of the sealed blob. */
  digest: string;
}

export interface LocalFileComponents {
  vault: Vault | undefined;
  cas: CasStore;
}

/** Whether this node holds a copy of `key`. */
export async function hasFile(c: LocalFileComponents, key: string): Promise<boolean> {
  const { vault, id } = fileOf(c.vault, key);
  return c.cas.has(vault.ns, id);
}

/** Metadata of the local copy of `key`; NotFoundError when this node holds none. */
export async function statFile(c: LocalFileComponents, key: string): Promise<FileInfo> {
  const { vault, id } = fileOf(c.vault, key);
  let meta: BlobMeta;
  try {
    meta = await c.cas.stat(vault.ns, id);
  } catch (err) {
    if (errorCode(err) === CODES.NOT_FOUND) throw new NotFoundError(`no such file: ${key}`);
    throw err;
  }
  return { key, size: plainSizeOfBlob(meta), createdAt: meta.createdAt, digest: meta.digest };
}
