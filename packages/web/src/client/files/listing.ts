// Turns the node's answer to GET /v1/files into one folder's rows. With the catalog the answer is
// `{ files: [{ key, size, version, modified, copies }], prefixes, next }` for one folder and page;
// a node without it sends every key as `{ files: [{ key, size, createdAt }] }`, folders derived here.

export interface ApiFile {
  key: string;
  size: number;
  /** The catalog's: when this version was written (ms since the epoch, or an ISO date). */
  modified?: number | string;
  /** Before the catalog: when the local copy was stored (ms). */
  createdAt?: number;
  /** The catalog's version of the file (opaque here). */
  version?: unknown;
  copies?: number;
}

export interface FolderRow {
  kind: 'folder';
  prefix: string;
  name: string;
}

export interface FileRow extends ApiFile {
  kind: 'file';
  name: string;
}

export type Row = FolderRow | FileRow;

export interface Listing {
  rows: Row[];
  /** Cursor of the next page when the server pages; null when this is all of it. */
  next: string | null;
  /** The server answered with common prefixes (catalog), so paging and folders are its own. */
  serverFolders: boolean;
}

function isFile(v: unknown): v is ApiFile {
  const f = v as ApiFile;
  return (
    typeof f === 'object' && f !== null && typeof f.key === 'string' && typeof f.size === 'number'
  );
}

function segmentName(rest: string): string {
  return rest === '' ? '(empty)' : rest;
}

function prefixOf(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (
    typeof p === 'object' &&
    p !== null &&
    typeof (p as { prefix?: unknown }).prefix === 'string'
  ) {
    return (p as { prefix: string }).prefix;
  }
  return undefined;
}

const byName = (a: Row, b: Row) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Reads a listing for `prefix`. The server's own folders are used when the answer has a
 * `prefixes` (or `commonPrefixes`) array — that is the sign it honoured `delimiter`; otherwise the
 * keys are filtered by prefix here and the first '/' after it makes a folder.
 */
export function readListing(body: unknown, prefix: string): Listing {
  const obj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const files = (Array.isArray(obj.files) ? obj.files : []).filter(isFile);
  const serverPrefixes = Array.isArray(obj.prefixes)
    ? obj.prefixes
    : Array.isArray(obj.commonPrefixes)
      ? obj.commonPrefixes
      : undefined;
  if (serverPrefixes) {
    const folders: FolderRow[] = [];
    for (const p of serverPrefixes) {
      const full = prefixOf(p);
      if (full === undefined || !full.startsWith(prefix)) continue;
      folders.push({
        kind: 'folder',
        prefix: full,
        name: segmentName(full.slice(prefix.length, -1)),
      });
    }
    const rows: Row[] = files
      .filter((f) => f.key.startsWith(prefix))
      .map((f) => ({ ...f, kind: 'file' as const, name: segmentName(f.key.slice(prefix.length)) }));
    const cursor = obj.next ?? obj.nextCursor ?? obj.cursor;
    return {
      rows: [...folders.sort(byName), ...rows],
      next: typeof cursor === 'string' && cursor !== '' ? cursor : null,
      serverFolders: true,
    };
  }
  const folders = new Map<string, FolderRow>();
  const rows: FileRow[] = [];
  for (const f of files) {
    if (!f.key.startsWith(prefix)) continue;
    const rest = f.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash === -1) {
      rows.push({ ...f, kind: 'file', name: segmentName(rest) });
      continue;
    }
    const folder = prefix + rest.slice(0, slash + 1);
    if (!folders.has(folder)) {
      folders.set(folder, {
        kind: 'folder',
        prefix: folder,
        name: segmentName(rest.slice(0, slash)),
      });
    }
  }
  return {
    rows: [...[...folders.values()].sort(byName), ...rows.sort(byName)],
    next: null,
    serverFolders: false,
  };
}

/** When the file was last written, in ms (NaN when the node did not say). */
export function modifiedAt(f: ApiFile): number {
  const m = f.modified;
  if (typeof m === 'number') return m < 1e11 ? m * 1000 : m; // seconds, from a node that sends them
  if (typeof m === 'string') {
    // a number sent as text, or a date
    return /^\d+$/.test(m) ? modifiedAt({ ...f, modified: Number(m) }) : Date.parse(m);
  }
  return typeof f.createdAt === 'number' ? f.createdAt : Number.NaN;
}

/** The rows whose name contains `filter`, ignoring case. */
export function filterRows(rows: Row[], filter: string): Row[] {
  const f = filter.trim().toLowerCase();
  return f === '' ? rows : rows.filter((r) => r.name.toLowerCase().includes(f));
}
