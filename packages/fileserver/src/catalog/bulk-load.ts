// A bulk path into the catalogs of stopped nodes, for benchmarks: the same records (one per file,
// no blob behind them) written to every data dir given, so the nodes start in sync.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { deriveNamespace, sealedSize } from '@peerstash/crypto';
import { Catalog } from './catalog.js';
import { CATALOG_DIR } from './catalog-db.js';
import { type CatalogRecord, makePutRecord } from './record.js';

export interface BulkFile {
  key: string;
  /** Plaintext size the record claims (no blob is written). */
  size: number;
}

export interface BulkLoadOptions {
  vaultKey: Uint8Array;
  files: Iterable<BulkFile>;
  /** Writer id of the records' clocks (64 hex); default all zeros but one. */
  writer?: string;
  /** Wall time of the first record (ms); each next one is 1 ms later. Default: now − files. */
  startWall?: number;
  /** Records per transaction (default 5,000). */
  batch?: number;
}

/**
 * Writes one record per file into the catalog of each data dir (the nodes must be stopped), the
 * same bytes everywhere. The versions are SHA-256 of the keys: list and stat answer for them,
 * reads find no blob. Returns how many records were written.
 */
export async function bulkLoadCatalog(
  dataDirs: string[],
  options: BulkLoadOptions,
): Promise<number> {
  const vault = {
    key: Buffer.from(options.vaultKey),
    ns: deriveNamespace(Buffer.from(options.vaultKey)),
  };
  const writer = options.writer ?? `${'0'.repeat(63)}1`;
  const catalogs = dataDirs.map((dir) =>
    Catalog.open({ path: join(dir, CATALOG_DIR), nodeId: writer, vault }),
  );
  const size = options.batch ?? 5000;
  let wall = options.startWall ?? Date.now() - 10_000_000;
  let n = 0;
  try {
    // the writer knows each name: no catalog opens it again to check it
    let batch: Array<{ record: CatalogRecord; name: string }> = [];
    const flush = async () => {
      await Promise.all(catalogs.map((c) => c.applyMany(batch)));
      batch = [];
    };
    for (const f of options.files) {
      const record = makePutRecord(vault, {
        key: f.key,
        version: createHash('sha256').update(f.key).digest('hex'),
        size: f.size,
        sealedSize: sealedSize(f.size),
        hlc: { wall: wall++, counter: 0, node: writer },
      });
      batch.push({ record, name: f.key });
      n++;
      if (batch.length >= size) await flush();
    }
    await flush();
  } finally {
    for (const c of catalogs) await c.close();
  }
  return n;
}
