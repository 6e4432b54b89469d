// A file's current version for the whole cluster, from this node's catalog: size, version and
// time of its record, and (when asked) the nodes holding that version.

import type { Attributes } from '../catalog/record.js';
import { NotFoundError } from '../errors.js';
import { requireVault, type Vault } from '../vault.js';
import { type HolderComponents, holdersOf } from './holders.js';

export interface FileStatus {
  key: string;
  /** Plaintext bytes. */
  size: number;
  /** SHA-256 of the sealed blob of the current version (the HTTP ETag). */
  version: string;
  /** When the current version was written (ms since the epoch, its catalog clock). */
  modified: number;
  /** The attributes stored with this version ({} when none). */
  attributes: Attributes;
  /** Ids of the nodes holding that version (asked of every connected peer); with `holders` only. */
  holders?: string[];
}

export interface InfoComponents extends HolderComponents {
  vault: Vault | undefined;
}

/** The catalog's answer for `key`; NotFoundError when it has no live record (never put, or deleted). */
export async function fileInfo(
  c: InfoComponents,
  key: string,
  options: { holders?: boolean } = {},
): Promise<FileStatus> {
  const { ns } = requireVault(c.vault);
  const st = c.catalog.stat(key);
  if (!st) throw new NotFoundError(`no such file: ${key}`);
  const out: FileStatus = {
    key,
    size: st.size,
    version: st.version,
    modified: st.modified,
    attributes: st.attributes,
  };
  if (options.holders) {
    const [holders] = await holdersOf(c, ns, [{ id: st.id, version: st.version }]);
    out.holders = holders ?? [];
  }
  return out;
}
