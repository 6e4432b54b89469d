// Listing the vault's files from the catalog, which every node holds for the whole cluster: a page
// under a prefix (folders as common prefixes), each file with the nodes holding its version counted.

import type { ListQuery } from '../catalog/name-index.js';
import { type Attributes, openAttributes, openName } from '../catalog/record.js';
import { errorCode } from '../errors.js';
import { requireVault, type Vault } from '../vault.js';
import { type HolderComponents, holdersOf } from './holders.js';

/** One file as a listing shows it. */
export interface ListedFile {
  key: string;
  /** Plaintext bytes. */
  size: number;
  /** SHA-256 of the sealed blob of the current version (the HTTP ETag). */
  version: string;
  /** When the current version was written (ms since the epoch, its catalog clock). */
  modified: number;
  /** Nodes holding that version now (this one and the peers that answered). */
  copies: number;
  /** The attributes stored with this version ({} when none). */
  attributes: Attributes;
}

export interface FilePage {
  files: ListedFile[];
  /** Folders (prefix + segment + delimiter), with a delimiter only. */
  prefixes: string[];
  /** Set when more follow: the `after` of the next page. */
  next?: string;
}

/** The shape `list()` has always returned (kept for callers of the whole list). */
export interface FileEntry {
  key: string;
  size: number;
  createdAt: number;
  /** With `list({ all: true })`: nodes holding this version (this one and its peers). */
  copies?: number;
}

export interface ListComponents extends HolderComponents {
  vault: Vault | undefined;
}

/** A page of the cluster's files under `query.prefix`, answered from this node's catalog. */
export async function listPage(c: ListComponents, query: ListQuery): Promise<FilePage> {
  const { ns } = requireVault(c.vault);
  const page = c.catalog.list(query);
  const holders = await holdersOf(c, ns, page.entries);
  const out: FilePage = {
    files: page.entries.map((e, i) => ({
      key: e.name,
      size: e.size,
      version: e.version,
      modified: e.modified,
      copies: holders[i]!.length,
      attributes: attributesOf(c, ns, e.id, e.version),
    })),
    prefixes: page.prefixes,
  };
  if (page.next !== undefined) out.next = page.next;
  return out;
}

/** The sealed attributes of (ns, id) at `version`, opened; {} when it has none. */
function attributesOf(c: ListComponents, ns: string, id: string, version: string): Attributes {
  const r = c.catalog.get(ns, id);
  if (!r?.attrs || r.version !== version) return {};
  return openAttributes(requireVault(c.vault).vaultKey, r.attrs);
}

/**
 * Every file, sorted by key: with `all` the whole cluster's (from the catalog, each with its
 * copies), else the files whose current version this node holds (from its holdings index).
 */
export async function listFiles(c: ListComponents, all: boolean): Promise<FileEntry[]> {
  const vault = requireVault(c.vault);
  const out: FileEntry[] = [];
  if (all) {
    let after: string | undefined;
    do {
      const page = await listPage(c, { limit: 10_000, ...(after ? { after } : {}) });
      for (const f of page.files) {
        out.push({ key: f.key, size: f.size, createdAt: f.modified, copies: f.copies });
      }
      after = page.next;
    } while (after !== undefined);
    return out;
  }
  for (const h of c.catalog.holdings.entries(vault.ns)) {
    const r = c.catalog.get(vault.ns, h.id);
    if (!r || r.deleted || r.version !== h.version) continue;
    try {
      out.push({ key: openName(vault.vaultKey, r), size: h.size, createdAt: r.hlc.wall });
    } catch (err) {
      c.log.warn({ id: h.id, code: errorCode(err) }, 'sealed file name does not open');
    }
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}
