// The name index of a vault node: plaintext name → file, in UTF-8 byte order, so a prefix listing
// with a delimiter, a cursor and a limit is a few range reads that skip whole folders by seeking.

import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { CatalogDb } from './catalog-db.js';
import { decode, encode, int, toUint } from './codec.js';
import type { CatalogRecord } from './record.js';

/**
 * Name bytes kept in a key as they are. LMDB keys stop at 1,978 bytes; a longer name is keyed by
 * its first LONG_NAME bytes, 0xFF (never in UTF-8) and 8 bytes of its hash, with the whole name in
 * the value: it sorts after every name it starts with, and among other long names sharing those
 * bytes by hash. A folder deeper than LONG_NAME bytes is therefore not grouped by a delimiter.
 */
export const LONG_NAME = 1900;
export const MAX_LIST_LIMIT = 10_000;
const FF = 0xff;
// past every key that starts with a given name: longer than any long-name suffix (0xFF + 8)
const PAST = Buffer.alloc(10, FF);

export interface NameEntry {
  name: string;
  id: string;
  version: string;
  size: number;
  sealedSize: number;
  /** When this version was written: its clock's wall time (ms). */
  modified: number;
}

export interface ListQuery {
  prefix?: string;
  /** Group names by what follows the prefix up to this string ('/' for folders). */
  delimiter?: string;
  /** Resume after this name or common prefix (the `next` of the page before). */
  after?: string;
  /** Names plus common prefixes per page: 1..10,000, default 1,000. */
  limit?: number;
}

export interface ListPage {
  entries: NameEntry[];
  /** Folders: prefix + segment + delimiter, each once, in order. */
  prefixes: string[];
  /** Set when more follow: pass it as `after`. */
  next?: string;
}

function nameBytes(ns: Buffer, name: string): Buffer {
  const b = Buffer.from(name, 'utf8');
  if (b.length <= LONG_NAME) return Buffer.concat([ns, b]);
  const hash = createHash('sha256').update(b).digest().subarray(0, 8);
  return Buffer.concat([ns, b.subarray(0, LONG_NAME), Buffer.of(FF), hash]);
}

export function nameKey(ns: string, name: string): Buffer {
  return nameBytes(Buffer.from(ns, 'hex'), name);
}

export function nameValue(r: CatalogRecord, name: string): Buffer {
  const fields: unknown[] = [
    Buffer.from(r.id, 'hex'),
    Buffer.from(r.version as string, 'hex'),
    int(r.size),
    int(r.sealedSize),
    int(r.hlc.wall),
  ];
  if (Buffer.byteLength(name, 'utf8') > LONG_NAME) fields.push(name);
  return encode(fields);
}

function readEntry(key: Buffer, value: Buffer): NameEntry {
  const f = decode(value, 'name index entry') as unknown[];
  const hex = (v: unknown) => Buffer.from(v as Uint8Array).toString('hex');
  return {
    name: typeof f[5] === 'string' ? f[5] : key.toString('utf8', 32),
    id: hex(f[0]),
    version: hex(f[1]),
    size: toUint(f[2]) ?? 0,
    sealedSize: toUint(f[3]) ?? 0,
    modified: toUint(f[4]) ?? 0,
  };
}

export function putName(db: CatalogDb, r: CatalogRecord, name: string): void {
  db.names.putSync(nameKey(r.ns, name), nameValue(r, name));
}

export function removeName(db: CatalogDb, ns: string, name: string): void {
  db.names.removeSync(nameKey(ns, name));
}

export function getName(db: CatalogDb, ns: string, name: string): NameEntry | undefined {
  const key = nameKey(ns, name);
  const value = db.names.get(key);
  return value ? readEntry(key, value) : undefined;
}

function checkQuery(q: ListQuery): Required<Omit<ListQuery, 'after' | 'delimiter'>> & ListQuery {
  const limit = q.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidArgumentError(`limit must be 1..${MAX_LIST_LIMIT}`);
  }
  for (const [k, v] of [
    ['prefix', q.prefix],
    ['delimiter', q.delimiter],
    ['after', q.after],
  ] as const) {
    if (v !== undefined && typeof v !== 'string')
      throw new InvalidArgumentError(`${k} must be a string`);
  }
  if (q.delimiter === '') throw new InvalidArgumentError('delimiter must not be empty');
  return { ...q, prefix: q.prefix ?? '', limit };
}

/** The folder (prefix + segment + delimiter) `name` falls in, or undefined when it is listed itself. */
function folderOf(name: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined) return undefined;
  const at = name.indexOf(delimiter, prefix.length);
  if (at < 0) return undefined;
  const folder = name.slice(0, at + delimiter.length);
  return Buffer.byteLength(folder, 'utf8') <= LONG_NAME ? folder : undefined;
}

/**
 * One page of names under `prefix` in byte order. With a delimiter, each folder is returned once as
 * a common prefix and the read seeks past it, so a page costs O(limit) reads whatever the folders
 * hold. `limit` counts names and common prefixes, as S3 does.
 */
export function listNames(db: CatalogDb, ns: string, query: ListQuery): ListPage {
  const q = checkQuery(query);
  const nsBytes = Buffer.from(ns, 'hex');
  const prefixKey = nameBytes(nsBytes, q.prefix);
  // a long prefix is matched on its first LONG_NAME bytes, then checked against each whole name
  const cut = prefixKey.subarray(0, Math.min(prefixKey.length, 32 + LONG_NAME));
  const end = Buffer.concat([cut, PAST]);
  let start = cut;
  if (q.after !== undefined) {
    const folder = q.after.startsWith(q.prefix)
      ? folderOf(q.after, q.prefix, q.delimiter)
      : undefined;
    // resuming inside (or at) a folder already returned skips all of it; else start past the name
    const from =
      folder !== undefined
        ? Buffer.concat([nameBytes(nsBytes, folder), PAST])
        : Buffer.concat([nameBytes(nsBytes, q.after), Buffer.of(0)]);
    if (Buffer.compare(from, start) > 0) start = from;
  }
  const page: ListPage = { entries: [], prefixes: [] };
  let taken = 0;
  let last: string | undefined;
  while (Buffer.compare(start, end) < 0) {
    let seek: Buffer | undefined;
    for (const { key, value } of db.names.getRange({ start, end })) {
      const entry = readEntry(key, value);
      if (!entry.name.startsWith(q.prefix)) continue;
      const folder = folderOf(entry.name, q.prefix, q.delimiter);
      if (taken === q.limit) {
        page.next = last;
        return page;
      }
      taken++;
      if (folder !== undefined) {
        page.prefixes.push(folder);
        last = folder;
        seek = Buffer.concat([nameBytes(nsBytes, folder), PAST]);
        break;
      }
      page.entries.push(entry);
      last = entry.name;
    }
    if (!seek) break;
    start = seek;
  }
  return page;
}
