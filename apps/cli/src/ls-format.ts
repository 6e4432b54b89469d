// How `peerstash ls` prints one page: files and folders merged in key order, as names (relative to
// the folder listed, or whole keys with -r), long lines (-l) in fixed columns, or JSON entries.

import { formatBytes, printable } from './format.js';
import { compareKeys, type ListedFile, type ListPage } from './listing.js';

export type LsEntry = { folder: string } | { file: ListedFile };

/** The files and folders of a page in one key order (the node returns them as two lists). */
export function mergePage(page: ListPage): LsEntry[] {
  const out: LsEntry[] = [];
  let f = 0;
  let p = 0;
  while (f < page.files.length || p < page.prefixes.length) {
    const file = page.files[f];
    const folder = page.prefixes[p];
    if (folder === undefined || (file !== undefined && compareKeys(file.key, folder) < 0)) {
      out.push({ file: file! });
      f++;
    } else {
      out.push({ folder });
      p++;
    }
  }
  return out;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time to the minute, as `ls -l --time-style=long-iso` shows it. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Fixed widths, so a line can be printed as soon as its page arrives. */
const SIZE_W = 10;
const TIME_W = 16;
const COPIES_W = 6;

export const LONG_HEADER = `${'SIZE'.padStart(SIZE_W)}  ${'MODIFIED'.padEnd(TIME_W)}  ${'COPIES'.padStart(COPIES_W)}  NAME`;

/** `name` is what to show (relative or whole), already chosen by the caller. */
export function formatEntry(e: LsEntry, name: string, long: boolean): string {
  const shown = printable(name);
  if (!long) return shown;
  if ('folder' in e) {
    return `${'-'.padStart(SIZE_W)}  ${'-'.padEnd(TIME_W)}  ${'-'.padStart(COPIES_W)}  ${shown}`;
  }
  const f = e.file;
  return `${formatBytes(f.size).padStart(SIZE_W)}  ${formatTime(f.modified).padEnd(TIME_W)}  ${String(f.copies).padStart(COPIES_W)}  ${shown}`;
}

/** The JSON form of an entry: a file as the node describes it, a folder as `{ key, folder: true }`. */
export function jsonEntry(e: LsEntry): Record<string, unknown> {
  if ('folder' in e) return { key: e.folder, folder: true };
  const { key, size, version, modified, copies } = e.file;
  return { key, size, version, modified, copies };
}
