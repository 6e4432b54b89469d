// The cluster's catalog through the node's API: one page of GET /v1/files, every page in turn,
// and the stat of one key (GET /v1/stat/<key>). Pages are fetched one at a time, never all at once.

import { type ApiClient, readJson } from './api-client.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export interface ListedFile {
  key: string;
  /** Plaintext bytes. */
  size: number;
  /** The stored version (SHA-256 of the sealed blob). */
  version: string;
  /** When this version was written, in ms since the epoch. */
  modified: number;
  /** Nodes that hold the version. */
  copies: number;
}

export interface ListPage {
  files: ListedFile[];
  /** Folders (prefix + segment + '/'), with a delimiter only. */
  prefixes: string[];
  /** The cursor of the next page; absent on the last. */
  next?: string;
}

export interface ListQuery {
  prefix?: string;
  /** '/' groups what follows the prefix into folders; without it every key under it is listed. */
  delimiter?: string;
  after?: string;
  /** Files plus folders per page. */
  limit?: number;
  signal?: AbortSignal;
}

export interface FileStat {
  key: string;
  size: number;
  version: string;
  modified: number;
  /** Node ids holding the version. */
  holders: string[];
}

/** Page size of every listing unless told otherwise: the node's default. */
export const PAGE_SIZE = 1000;

/** Accepts a time as ms or as a date string (the API documents ms; a string is read, not trusted). */
function timeOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? n : Date.parse(v);
  }
  return Number.NaN;
}

function bad(what: string): CliError {
  return new CliError('ERR_PROTOCOL', EXIT.GENERIC, `the node sent a malformed ${what}`);
}

function fileOf(o: Record<string, unknown>): ListedFile {
  if (typeof o.key !== 'string') throw bad('listing (an entry without a key)');
  return {
    key: o.key,
    size: Number(o.size ?? 0),
    version: String(o.version ?? ''),
    modified: timeOf(o.modified),
    copies: Number(o.copies ?? 0),
  };
}

/** One page of the listing. */
export async function listPage(client: ApiClient, q: ListQuery = {}): Promise<ListPage> {
  const params = new URLSearchParams();
  if (q.prefix) params.set('prefix', q.prefix);
  if (q.delimiter) params.set('delimiter', q.delimiter);
  if (q.after !== undefined) params.set('after', q.after);
  params.set('limit', String(q.limit ?? PAGE_SIZE));
  const res = await client.request(
    'GET',
    `/v1/files?${params}`,
    q.signal ? { signal: q.signal } : {},
  );
  const out = await readJson<Record<string, unknown> | undefined>(res);
  if (!out || !Array.isArray(out.files)) throw bad('listing');
  const prefixes = Array.isArray(out.prefixes) ? out.prefixes.map(String) : [];
  const page: ListPage = {
    files: out.files.map((f) => fileOf(f as Record<string, unknown>)),
    prefixes,
  };
  if (typeof out.next === 'string' && out.next !== '') page.next = out.next;
  return page;
}

/** Every page of a listing in order; the next page is asked for only once this one was used. */
export async function* listPages(client: ApiClient, q: ListQuery = {}): AsyncGenerator<ListPage> {
  let after = q.after;
  for (;;) {
    const page = await listPage(client, { ...q, ...(after !== undefined ? { after } : {}) });
    yield page;
    if (page.next === undefined) return;
    // A node that hands back the cursor it was given would loop forever.
    if (page.next === after) throw bad('listing (the cursor did not move)');
    after = page.next;
  }
}

/** Every file under `prefix` (no folders), in key order. */
export async function* listFiles(
  client: ApiClient,
  q: Omit<ListQuery, 'delimiter'> = {},
): AsyncGenerator<ListedFile> {
  for await (const page of listPages(client, q)) yield* page.files;
}

/** The stat of one key, or undefined when the catalog has no such file. */
export async function statFile(
  client: ApiClient,
  key: string,
  opts: { signal?: AbortSignal } = {},
): Promise<FileStat | undefined> {
  const res = await client.request('GET', `/v1/stat/${encodeURIComponent(key)}`, opts);
  if (res.statusCode === 404) {
    res.resume();
    return undefined;
  }
  const o = await readJson<Record<string, unknown> | undefined>(res);
  if (!o) throw bad('stat');
  const f = fileOf({ key, ...o });
  return {
    key: f.key,
    size: f.size,
    version: f.version,
    modified: f.modified,
    holders: Array.isArray(o.holders) ? o.holders.map(String) : [],
  };
}

/** UTF-8 byte order, the order the catalog lists keys in (not UTF-16 order, as `<` compares). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
