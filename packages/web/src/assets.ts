// Serves the built single-page app from dist/ui: index.html for the console's pages and the
// hashed files under assets/ (cached for good); read once from disk, a few hundred KiB at most.

import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Where `pnpm build` puts the app, beside this module in dist/. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

interface Asset {
  body: Buffer;
  type: string;
}

export class Assets {
  readonly #dir: string;
  #loaded: Promise<Map<string, Asset>> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Every file of the build, by its path under /ui/ ('index.html', 'assets/index-3f2a.js'). */
  #load(): Promise<Map<string, Asset>> {
    this.#loaded ??= (async () => {
      const files = new Map<string, Asset>();
      const entries = await readdir(this.#dir, { recursive: true, withFileTypes: true });
      for (const e of entries) {
        if (!e.isFile()) continue;
        const full = join(e.parentPath, e.name);
        const rel = full.slice(this.#dir.replace(/\/?$/, '/').length);
        if (rel.startsWith('.')) continue; // .vite/manifest.json and the like
        const type = TYPES[extname(e.name)];
        if (type) files.set(rel, { body: await readFile(full), type });
      }
      if (!files.has('index.html')) {
        throw new NotFoundError(`no console build in ${this.#dir} (run pnpm build)`);
      }
      return files;
    })();
    this.#loaded.catch(() => {
      this.#loaded = undefined;
    });
    return this.#loaded;
  }

  /** Sends `rel` (a path under /ui/) or rejects with ERR_NOT_FOUND; only built files exist. */
  async send(res: ServerResponse, rel: string, head: boolean): Promise<void> {
    const files = await this.#load();
    const asset = files.get(rel);
    if (!asset) throw new NotFoundError(`no such page: /ui/${rel.slice(0, 200)}`);
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      // file names under assets/ carry a content hash; the page itself is re-checked every time
      'cache-control': rel.startsWith('assets/')
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    });
    res.end(head ? undefined : asset.body);
  }
}
