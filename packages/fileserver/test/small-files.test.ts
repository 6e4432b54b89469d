// Small files go to each replica whole in one store-small message; past SMALL_FILE_MAX the put
// streams. Both sides of the threshold, sources that trickle, and a replica that is away.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { casPathTransform } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_MAX } from '../src/ops/store-small.js';
import {
  type Cluster,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  waitFor,
  walk,
} from './helpers.js';

/** The pattern's bytes in pieces of `piece` bytes, each after a pause: a client that trickles. */
async function* trickle(seed: string, size: number, piece: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of pattern(seed, size)) {
    for (let off = 0; off < chunk.length; off += piece) {
      await new Promise((r) => setTimeout(r, 1));
      yield chunk.subarray(off, Math.min(chunk.length, off + piece));
    }
  }
}

describe('small files', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(3);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('stores sizes on both sides of the threshold on every node, byte-identical', async () => {
    const [a, b, cc] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    for (const size of [0, 1, 4096, SMALL_FILE_MAX - 1, SMALL_FILE_MAX, SMALL_FILE_MAX + 1]) {
      const key = `edge/${size}`;
      const res = await a.store(key, trickle(key, size, 7000));
      expect(res).toMatchObject({ key, size, replicas: 2 });
      const want = await patternSha(key, size);
      for (const n of [a, b, cc]) {
        expect(await n.has(key)).toBe(true);
        expect(await sha256Of(await n.get(key))).toBe(want);
      }
    }
  });

  it('keeps the last of concurrent small puts of many keys, and overwrites', async () => {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const keys = Array.from({ length: 40 }, (_, i) => `many/${i}`);
    const out = await Promise.all(keys.map((k) => a.store(k, pattern(k, 4096))));
    expect(out.every((r) => r.replicas === 2)).toBe(true);
    await b.store('many/0', pattern('v2', 100));
    expect(await sha256Of(await a.get('many/0'))).toBe(await patternSha('v2', 100));
    expect(await sha256Of(await b.get('many/7'))).toBe(await patternSha('many/7', 4096));
  });

  it('a put whose local write fails leaves no copy and no temp file on the replicas', async () => {
    const [a, b, cc] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    // a plain file where the blob's first folder level goes on A: its write fails at once (a key
    // whose first level no earlier put of this suite made: 1 in 256 of them share one)
    const nsDir = join(c.dirs[0]!, 'blobs', deriveNamespace(c.vaultKey));
    await mkdir(nsDir, { recursive: true });
    const topOf = (k: string) =>
      casPathTransform(deriveFileId(c.vaultKey, k)).pathName.split('/')[0]!;
    let key = 'blocked/here';
    for (let i = 0; existsSync(join(nsDir, topOf(key))); i++) key = `blocked/here-${i}`;
    await writeFile(join(nsDir, topOf(key)), 'x');
    await expect(a.store(key, pattern(key, 4096))).rejects.toThrow();
    // store-abort: the replicas drop their copies now, not at the 60 s commit deadline
    const tmpOnReplicas = async () =>
      [...(await walk(c.dirs[1]!)), ...(await walk(c.dirs[2]!))].filter((f) => f.endsWith('.tmp'));
    await waitFor(
      'replicas to drop their temp files',
      async () => (await tmpOnReplicas()).length === 0,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await tmpOnReplicas()).toEqual([]);
    expect(await b.has(key)).toBe(false);
    expect(await cc.has(key)).toBe(false);
  });

  it('acknowledges with the replicas that answered when one peer is away', async () => {
    const [a, b, cc] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    await cc.stop();
    const res = await a.store('away/one', pattern('away', 4096));
    expect(res.replicas).toBe(1);
    expect(await sha256Of(await b.get('away/one'))).toBe(await patternSha('away', 4096));
  });
});
