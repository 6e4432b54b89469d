// Source trees and restic plumbing for the gateway scenarios: a real many-small-files tree copied
// out of the repo's own node_modules, restic's environment for a repo, and a diff of two trees.
import { cp, lstat, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ok, run } from '../../../packages/gateway/test/clients.js';
import { type GatewayCluster, resticRepo } from './cluster.js';

const here = dirname(fileURLToPath(import.meta.url));
const PNPM_STORE = resolve(here, '../../../node_modules/.pnpm');

export interface TreeFigures {
  files: number;
  bytes: number;
  packages: number;
}

/** Regular files and folders below `dir` (symlinks skipped), counted. */
async function count(dir: string, acc: { files: number; bytes: number }): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await count(p, acc);
    else if (e.isFile()) {
      acc.files++;
      acc.bytes += (await lstat(p)).size;
    }
  }
}

/**
 * Copies whole packages out of node_modules/.pnpm into `dest` until about `maxFiles` files:
 * each `<pkg>@<v>/node_modules/<name>` that is a real folder (the package itself, not a link to
 * a dependency), links inside left out so the tree restores the same everywhere. Packages over
 * `maxPackageBytes` (native binaries) are passed over: the point is many small files.
 */
export async function nodeModulesTree(
  dest: string,
  opts: { maxFiles: number; maxPackageBytes?: number; offset?: number },
): Promise<TreeFigures> {
  const limit = opts.maxPackageBytes ?? 4 * 1024 * 1024;
  const total: TreeFigures = { files: 0, bytes: 0, packages: 0 };
  const entries = (await readdir(PNPM_STORE)).sort().slice(opts.offset ?? 0);
  for (const entry of entries) {
    if (total.files >= opts.maxFiles) break;
    const nm = join(PNPM_STORE, entry, 'node_modules');
    for (const pkg of await packagesIn(nm)) {
      const acc = { files: 0, bytes: 0 };
      await count(pkg, acc);
      if (acc.bytes > limit || acc.files === 0) continue;
      const target = join(dest, entry, pkg.slice(nm.length + 1));
      await cp(pkg, target, {
        recursive: true,
        filter: async (src) => !(await lstat(src)).isSymbolicLink(),
      });
      total.files += acc.files;
      total.bytes += acc.bytes;
      total.packages++;
      if (total.files >= opts.maxFiles) break;
    }
  }
  return total;
}

/** Package folders directly in a node_modules (scoped ones one level down), real folders only. */
async function packagesIn(nm: string): Promise<string[]> {
  const out: string[] = [];
  let names: import('node:fs').Dirent[];
  try {
    names = await readdir(nm, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of names.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = join(nm, e.name);
    if (e.name.startsWith('@') && e.isDirectory()) {
      for (const s of await readdir(p, { withFileTypes: true })) {
        if (s.isDirectory()) out.push(join(p, s.name));
      }
    } else if (e.isDirectory()) out.push(p);
  }
  return out;
}

export function resticEnv(c: GatewayCluster, repo: string, work: string): Record<string, string> {
  return {
    RESTIC_REPOSITORY: resticRepo(c, repo),
    RESTIC_PASSWORD: 'pw',
    RESTIC_CACHE_DIR: join(work, `cache-${repo}`),
  };
}

/** Restores the latest snapshot into a fresh folder and asserts `diff -r` against `src` is clean. */
export async function restoreAndDiff(
  env: Record<string, string>,
  src: string,
  target: string,
): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await ok('restic', ['restore', 'latest', '--target', target], { env });
  const diff = await run('diff', ['-r', src, join(target, src)]);
  expect(diff.stdout + diff.stderr).toBe('');
  expect(diff.code).toBe(0);
}

export interface SnapshotSummary {
  id: string;
  paths: string[];
}

export async function snapshots(env: Record<string, string>): Promise<SnapshotSummary[]> {
  return JSON.parse((await ok('restic', ['snapshots', '--json'], { env })).stdout);
}
