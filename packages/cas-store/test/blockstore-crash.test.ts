// SIGKILL of a real process in the middle of CasBlockstore puts: after reopening, every block that
// was reported stored reads back whole, the killed put is absent, and no temp file survives.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from 'interface-store';
import { CID } from 'multiformats/cid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CasBlockstore } from '../src/blockstore/index.js';
import { collect, removeDir, sha256, tempDir, walk } from './helpers.js';
import { killMidWrite } from './kill-mid-write.js';

const writer = fileURLToPath(new URL('./fixtures/blockstore-writer.mjs', import.meta.url));
// A sha2-256 CID whose block the writer streams forever (so it can never complete).
const BIG = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy');

/** Runs the writer until it is streaming the big block, SIGKILLs it; returns the CIDs it reported. */
async function killMidPut(root: string, delayMs: number): Promise<string[]> {
  const out = await killMidWrite(writer, [root, BIG.toString()], 'writing\n', delayMs);
  return [...out.matchAll(/^put (\S+)$/gm)].map((m) => m[1]!);
}

describe('CasBlockstore crash safety (SIGKILL of a real writer process)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cas-blockstore-crash-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('a put killed midway leaves every reported block readable and the killed one absent', async () => {
    const root = join(dir, 'root');
    for (const delay of [50, 250]) {
      const reported = await killMidPut(root, delay);
      expect(reported.length).toBeGreaterThanOrEqual(60);
      expect((await walk(root)).some((p) => p.endsWith('.tmp'))).toBe(true); // hit mid-write

      const store = new CasBlockstore({ root });
      await store.open();
      expect((await walk(root)).filter((p) => p.endsWith('.tmp'))).toEqual([]);
      expect(await store.has(BIG)).toBe(false);
      await expect(collect(store.get(BIG))).rejects.toBeInstanceOf(NotFoundError);

      // Every block on disk is whole (hashes to its CID), and every reported one is there.
      const found = new Set<string>();
      for await (const { cid, bytes } of store.getAll()) {
        expect(sha256(await collect(bytes))).toBe(
          Buffer.from(cid.multihash.digest).toString('hex'),
        );
        found.add(cid.toString());
      }
      for (const cid of reported) expect(found.has(cid)).toBe(true);
      for (const cid of reported.slice(0, 5)) expect(await store.has(CID.parse(cid))).toBe(true);
      await store.close();
    }
  });
});
