// Walks a local folder for `put -r`, one folder's names at a time, in the order the catalog lists
// keys (UTF-8 bytes of the relative path), so uploads can be matched against a listing as they go.

import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export type TreeEntry =
  | { kind: 'file'; path: string; rel: string[]; size: number; mtimeMs: number }
  /** A symlink, socket, fifo or device: not uploaded (a symlink could point out of the tree). */
  | { kind: 'other'; path: string; rel: string[]; what: string }
  /** A name that is not valid UTF-8: no key can name it. */
  | { kind: 'bad-name'; path: string; rel: string[] };

export interface WalkOptions {
  /** Names (globs with `*` and `?`) of files and folders to leave out, at any depth. */
  exclude?: readonly string[];
}

/** `*` and `?` over one name; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

interface Named {
  name: string;
  dirent: Dirent<Buffer>;
  /** What the name sorts as: a folder as 'name/', since every key under it starts so. */
  sortKey: Buffer;
}

function kindOf(d: Dirent<Buffer>): string {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice() || d.isCharacterDevice()) return 'device';
  return 'special file';
}

/** The entries below `root`, depth first, in key order. Errors reading a folder are thrown. */
export async function* walkTree(root: string, opts: WalkOptions = {}): AsyncGenerator<TreeEntry> {
  const excluded = (opts.exclude ?? []).map(globToRegExp);
  async function* walk(dir: string, rel: string[]): AsyncGenerator<TreeEntry> {
    const dirents = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    const named: Named[] = [];
    for (const dirent of dirents) {
      const name = dirent.name.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(dirent.name)) {
        yield { kind: 'bad-name', path: join(dir, name), rel: [...rel, name] };
        continue;
      }
      if (excluded.some((re) => re.test(name))) continue;
      const sortKey = Buffer.from(dirent.isDirectory() ? `${name}/` : name, 'utf8');
      named.push({ name, dirent, sortKey });
    }
    named.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const { name, dirent } of named) {
      const path = join(dir, name);
      const at = [...rel, name];
      if (dirent.isDirectory()) {
        yield* walk(path, at);
      } else if (dirent.isFile()) {
        // The file may go away between the listing and here: that is the uploader's failure to
        // report, not a reason to stop the walk.
        const st = await lstat(path).catch(() => undefined);
        if (st?.isFile()) yield { kind: 'file', path, rel: at, size: st.size, mtimeMs: st.mtimeMs };
        else if (st) yield { kind: 'other', path, rel: at, what: 'special file' };
      } else {
        yield { kind: 'other', path, rel: at, what: kindOf(dirent) };
      }
    }
  }
  yield* walk(root, []);
}
