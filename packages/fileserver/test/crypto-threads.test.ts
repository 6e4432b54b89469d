// Nodes that seal and open on worker threads (cryptoThreads): puts, local gets, gets fetched from
// a peer and a rotten local copy all behave as inline; 'auto' follows the cores.
import { rm, stat } from 'node:fs/promises';
import { sealedSize } from '@peerstash/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCryptoThreads } from '../src/index.js';
import {
  blobFiles,
  type Cluster,
  flipByte,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  startNode,
  tempDir,
  waitFor,
  walk,
} from './helpers.js';

describe('cryptoThreads', () => {
  let c: Cluster;
  beforeAll(async () => {
    // R = 1: the writer and one peer hold a file, so the third node reads it from a peer
    c = await startCluster(3, { cryptoThreads: 2, replicationFactor: 1, getRangeBytes: 0 });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('a put sealed on workers is got back from the writer, a holder and a node without it', async () => {
    const size = 6 * 1024 * 1024 + 321;
    const [a] = c.nodes;
    const put = await a!.store('big', pattern('big', size));
    expect(put.replicas).toBe(1);
    const want = await patternSha('big', size);
    for (const node of c.nodes) expect(await sha256Of(await node.get('big'))).toBe(want);
  });

  it('a rotten local copy fails verification on the workers and the bytes come from a peer', async () => {
    const size = 3 * 1024 * 1024;
    const [a] = c.nodes;
    await a!.store('rot', pattern('rot', size));
    // the writer's copy of this file: the blob of its sealed size (the other file is bigger)
    const sealed = sealedSize(size, 256 * 1024);
    const files = await blobFiles(c.dirs[0]!);
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    const mine = files.filter((_f, i) => sizes[i] === sealed);
    expect(mine).toHaveLength(1);
    await flipByte(mine[0]!, 2 * 1024 * 1024);
    expect(await sha256Of(await a!.get('rot'))).toBe(await patternSha('rot', size));
  });

  it('stop() during a put sealed on workers: the put fails ERR_CLOSED, no temp file is left', async () => {
    const dir = await tempDir('pool-stop');
    const node = await startNode({ dataDir: dir, vaultKey: c.vaultKey, cryptoThreads: 2 });
    try {
      async function* stalls(): AsyncGenerator<Uint8Array> {
        yield* pattern('stalls', 5 * 1024 * 1024);
        await new Promise(() => {});
      }
      const storing = node.store('hangs', stalls());
      storing.catch(() => {});
      const temps = async () => (await walk(dir)).filter((p) => p.endsWith('.tmp'));
      await waitFor('the write in progress', async () => (await temps()).length >= 1, 20_000);
      await node.stop();
      await expect(storing).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      expect(await temps()).toEqual([]);
    } finally {
      await node.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("'auto' is inline on 1-2 cores, else min(4, cores - 1); bad values are refused", () => {
    expect([1, 2, 3, 4, 8, 32].map((n) => resolveCryptoThreads('auto', n))).toEqual([
      0, 0, 2, 3, 4, 4,
    ]);
    expect(resolveCryptoThreads(undefined, 8)).toBe(4);
    expect(resolveCryptoThreads(0, 8)).toBe(0);
    expect(resolveCryptoThreads(6, 2)).toBe(6);
    for (const bad of [-1, 1.5, 65, Number.NaN]) {
      expect(() => resolveCryptoThreads(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
