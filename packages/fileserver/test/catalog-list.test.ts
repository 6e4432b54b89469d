// The cluster catalog from a node that holds none of the files: exact folder listings, paging,
// stat of every file (API and HTTP), and a storage-only node that never holds a plaintext name.

import { readFile } from 'node:fs/promises';
import { deriveFileId } from '@peerstash/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, rankNodes, readApiInfo } from '../src/index.js';
import { type Cluster, pattern, startCluster, walk } from './helpers.js';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

/** Keys under `folder` whose put-time replica (R = 1) from `writer` does not land on `away`. */
function keysAvoiding(
  cluster: Cluster,
  writer: FileServer,
  away: FileServer,
  folder: string,
  n: number,
): string[] {
  const peers = cluster.nodes.filter((x) => x !== writer).map((x) => x.nodeId);
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const sub = i % 3 === 0 ? 'sub/' : i % 5 === 0 ? 'deeper/er/' : '';
    const key = `${folder}${sub}secret-name-${i}.txt`;
    const target = rankNodes(deriveFileId(cluster.vaultKey, key), peers)[0];
    if (target !== away.nodeId) out.push(key);
  }
  return out;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function listsFolderExactly(
  cluster: Cluster,
  writer: FileServer,
  reader: FileServer,
  readerDir: string,
): Promise<void> {
  const keys = keysAvoiding(cluster, writer, reader, 'docs/', 40);
  const sizes = new Map<string, number>();
  const versions = new Map<string, string>();
  for (const [i, key] of keys.entries()) {
    const r = await writer.store(key, pattern(key, 100 + i));
    expect(r.replicas).toBe(1);
    sizes.set(key, 100 + i);
    versions.set(key, r.digest);
  }
  // noise beside the folder, and a name that only starts like it
  await writer.store('docsx', pattern('x', 10));
  await writer.store('other/docs/file', pattern('y', 10));
  for (const key of keys) expect(await reader.has(key)).toBe(false);

  const direct = keys.filter((k) => !k.slice(5).includes('/')).sort(byteOrder);
  const whole = await reader.listPage({ prefix: 'docs/', delimiter: '/' });
  expect(whole.files.map((f) => f.key)).toEqual(direct);
  expect(whole.prefixes).toEqual(['docs/deeper/', 'docs/sub/']);
  expect(whole.next).toBeUndefined();
  for (const f of whole.files) {
    expect(f).toMatchObject({ size: sizes.get(f.key), version: versions.get(f.key), copies: 2 });
  }

  // recursive, paged 7 at a time: every file once, in order, nothing else
  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await reader.listPage({ prefix: 'docs/', limit: 7, ...(after ? { after } : {}) });
    expect(page.files.length).toBeLessThanOrEqual(7);
    seen.push(...page.files.map((f) => f.key));
    after = page.next;
    pages++;
  } while (after !== undefined);
  expect(seen).toEqual([...keys].sort(byteOrder));
  expect(pages).toBe(Math.ceil(keys.length / 7));

  // the same over HTTP, folders included, following `next`
  const api = (await readApiInfo(readerDir))!;
  const get = (path: string) =>
    fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.token}` } });
  const items: string[] = [];
  let next: string | undefined;
  do {
    const q = new URLSearchParams({ prefix: 'docs/', delimiter: '/', limit: '4' });
    if (next) q.set('after', next);
    const res = await get(`/v1/files?${q}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      files: Array<{ key: string; size: number; version: string; modified: number }>;
      prefixes: string[];
      next?: string;
    };
    items.push(...body.files.map((f) => f.key), ...body.prefixes);
    expect(body.files.length + body.prefixes.length).toBeLessThanOrEqual(4);
    next = body.next;
  } while (next !== undefined);
  expect(items.sort(byteOrder)).toEqual([...direct, 'docs/deeper/', 'docs/sub/'].sort(byteOrder));

  // stat of every file: size, version, and the two nodes that hold it
  for (const key of keys) {
    const info = await reader.info(key, { holders: true });
    expect(info).toMatchObject({ key, size: sizes.get(key), version: versions.get(key) });
    expect(info.holders).toHaveLength(2);
    expect(info.holders).toContain(writer.nodeId);
    expect(info.holders).not.toContain(reader.nodeId);
    const res = await get(`/v1/stat/${encodeURIComponent(key)}`);
    expect(await res.json()).toEqual({ ...info, holders: [...info.holders!] });
    const head = await fetch(`${api.url}/v1/files/${encodeURIComponent(key)}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(head.headers.get('content-length')).toBe(String(sizes.get(key)));
    expect(head.headers.get('etag')).toBe(`"${versions.get(key)}"`);
  }
  expect((await get('/v1/stat/docs%2Fnope')).status).toBe(404);
}

describe('the catalog answers for the whole cluster', () => {
  it('3 nodes, R = 1: a node holding none of a folder lists, pages and stats it exactly', async () => {
    c = await startCluster(3, { replicationFactor: 1, api: true });
    await listsFolderExactly(c, c.nodes[0]!, c.nodes[2]!, c.dirs[2]!);
  });

  it('5 nodes, R = 1, one storage-only: the same, and the storage-only node keeps no name', async () => {
    c = await startCluster(5, { replicationFactor: 1, api: true, storageOnly: [4] });
    await listsFolderExactly(c, c.nodes[1]!, c.nodes[3]!, c.dirs[3]!);
    const storage = c.nodes[4]!;
    const st = await storage.status();
    // it holds and relays every record, sealed
    expect(st.catalog.files).toBe(42);
    await expect(storage.listPage({})).rejects.toMatchObject({ code: 'ERR_NO_VAULT_KEY' });
    await expect(storage.info('docsx')).rejects.toMatchObject({ code: 'ERR_NO_VAULT_KEY' });
    // its data dir, the catalog's LMDB files included, never holds a plaintext name
    const scan = async (dir: string) => {
      const files = await walk(dir);
      expect(files.some((f) => f.includes('catalog'))).toBe(true);
      let found = 0;
      for (const f of files) {
        const bytes = await readFile(f);
        if (bytes.includes('secret-name-') || bytes.includes('other/docs')) found++;
      }
      return found;
    };
    expect(await scan(c.dirs[4]!)).toBe(0);
    // while a vault node's index does hold them (so the scan can find them)
    expect(await scan(c.dirs[3]!)).toBeGreaterThan(0);
  });
});
