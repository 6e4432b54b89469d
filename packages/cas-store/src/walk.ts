// Walks a folder tree with a few readdir calls in flight, yielding each folder with its entries.
// Deep layouts (one folder chain per blob) make a one-at-a-time walk latency-bound.

import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DirEntries {
  dir: string;
  entries: Dirent[];
}

/**
 * Yields every folder under (and including) `root`, in no particular order.
 * At most `concurrency` folders are read ahead, so memory stays bounded by folder sizes.
 */
export async function* walkDirs(root: string, concurrency = 8): AsyncGenerator<DirEntries> {
  const todo: string[] = [root];
  const ready: DirEntries[] = [];
  let active = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;

  const fill = () => {
    while (active < concurrency && todo.length > 0 && ready.length < concurrency) {
      const dir = todo.pop()!;
      active++;
      readdir(dir, { withFileTypes: true })
        .then(
          (entries) => {
            for (const e of entries) if (e.isDirectory()) todo.push(join(dir, e.name));
            ready.push({ dir, entries });
          },
          (err: NodeJS.ErrnoException) => {
            // A folder pruned by a concurrent delete is simply gone.
            if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') failure ??= err;
          },
        )
        .finally(() => {
          active--;
          fill();
          wake?.();
        });
    }
  };

  fill();
  for (;;) {
    if (failure) throw failure;
    const next = ready.pop();
    if (next) {
      fill();
      yield next;
      continue;
    }
    if (active === 0 && todo.length === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}
