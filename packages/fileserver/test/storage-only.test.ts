import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, pattern, sha256Of, startCluster, waitFor, walk } from './helpers.js';

const MARKER = 'PEERSTASH-PLAINTEXT-MARKER-7f3a9c';

async function* markerFile(size: number): AsyncGenerator<Uint8Array> {
  const line = Buffer.from(`${MARKER}\n`);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, 64 * 1024);
    const piece = Buffer.alloc(n);
    for (let off = 0; off < n; off += line.length) line.copy(piece, off);
    left -= n;
    yield piece;
  }
}

describe('storage-only node', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(3, { storageOnly: [2] });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('keeps sealed replicas and never holds plaintext or file names', async () => {
    const [a, , s] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
    const key = `secret/${MARKER}.txt`;
    const res = await a.store(key, markerFile(1_000_000));
    expect(res.replicas).toBe(2);
    const st = await s.status();
    expect(st.storageOnly).toBe(true);
    expect(st.namespace).toBeNull();
    expect(st.blobs).toBe(1);
    const needles = [
      MARKER,
      Buffer.from(MARKER).toString('base64'),
      Buffer.from(MARKER).toString('hex'),
    ];
    for (const p of await walk(c.dirs[2]!)) {
      const bytes = await readFile(p);
      for (const n of needles) expect(bytes.includes(n), `${p} holds ${n}`).toBe(false);
      expect(bytes.includes('secret/')).toBe(false);
    }
  });

  it('cannot produce plaintext', async () => {
    const s = c.nodes[2]!;
    await expect(s.get('anything')).rejects.toMatchObject({ code: 'ERR_NO_VAULT_KEY' });
    await expect(s.list()).rejects.toMatchObject({ code: 'ERR_NO_VAULT_KEY' });
    await expect(s.store('x', pattern('x', 10))).rejects.toMatchObject({
      code: 'ERR_NO_VAULT_KEY',
    });
  });

  it('serves its sealed replica to a vault node that lost every other copy', async () => {
    const [a, b] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    const key = 'kept-by-storage';
    await a.store(key, markerFile(200_000));
    await a.stop();
    await rm(c.dirs[0]!, { recursive: true, force: true });
    await waitFor('b sees a gone', async () => (await b.status()).peers.length === 1);
    await b.delete(key);
    const got = await sha256Of(await b.get(key));
    expect(got).toBe(await sha256Of(markerFile(200_000)));
  });
});
