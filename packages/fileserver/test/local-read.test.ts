// `@peerstash/fileserver/local-read`: a node's own copy read from its data dir by another reader
// (the CLI's `get`), beside the running node: the version it finds, verified bytes, and every
// case in which it must say "not from here".

import { readFile } from 'node:fs/promises';
import { deriveFileId } from '@peerstash/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLocalCopy } from '../src/local-read.js';
import {
  type Cluster,
  flipByte,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  walk,
} from './helpers.js';

/** The blob file of `key` in `dir` (the one whose metadata names its file id), and its chunk size. */
async function blobOf(
  c: Cluster,
  dir: string,
  key: string,
): Promise<{ path: string; chunkSize: number }> {
  const id = deriveFileId(c.vaultKey, key);
  for (const p of await walk(dir)) {
    if (!p.endsWith('.meta.json')) continue;
    const text = await readFile(p, 'utf8');
    if (!text.includes(id)) continue;
    const meta = JSON.parse(text) as { blob: string; extra?: { chunkSize?: number } };
    return { path: p.replace(/[^/]+$/, meta.blob), chunkSize: meta.extra?.chunkSize ?? 65536 };
  }
  throw new Error(`no blob of ${key} in ${dir}`);
}

describe('findLocalCopy', () => {
  let c: Cluster;
  beforeAll(async () => {
    // node 1 holds no vault key: it keeps sealed replicas only
    c = await startCluster(2, { storageOnly: [1] });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("finds the version the node's catalog names, and opens it to the stored bytes", async () => {
    const [a] = c.nodes;
    const key = 'local/one.bin';
    const size = 2_500_000;
    await a!.store(key, pattern(key, size));
    const copy = await findLocalCopy(c.dirs[0]!, key);
    expect(copy).toBeDefined();
    expect(copy!.digest).toBe((await a!.info(key)).version);
    expect(copy!.size).toBe(size);
    expect(await sha256Of(await copy!.open())).toBe(await patternSha(key, size));
    // an empty file too
    await a!.store('local/empty', pattern('e', 0));
    const empty = await findLocalCopy(c.dirs[0]!, 'local/empty');
    expect(empty?.size).toBe(0);
    expect(await sha256Of(await empty!.open())).toBe(await patternSha('e', 0));
  });

  it('says "not from here" for a key with no copy, and in a data dir without the vault key', async () => {
    expect(await findLocalCopy(c.dirs[0]!, 'local/never-stored')).toBeUndefined();
    await c.nodes[0]!.store('local/replicated', pattern('r', 100_000));
    // the storage-only node holds the sealed replica but cannot open it
    await blobOf(c, c.dirs[1]!, 'local/replicated');
    expect(await findLocalCopy(c.dirs[1]!, 'local/replicated')).toBeUndefined();
    await expect(findLocalCopy(c.dirs[0]!, '')).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' });
  });

  it('a flipped byte fails the stream with ERR_INTEGRITY before any byte of its chunk', async () => {
    const key = 'local/rotten.bin';
    const size = 3_000_000;
    await c.nodes[0]!.store(key, pattern(key, size));
    const blob = await blobOf(c, c.dirs[0]!, key);
    await flipByte(blob.path, 2_000_000);
    const copy = await findLocalCopy(c.dirs[0]!, key);
    let got = 0;
    const read = (async () => {
      for await (const chunk of await copy!.open()) got += (chunk as Buffer).length;
    })();
    await expect(read).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    // only whole verified chunks came out, all before the rotten one (the 8th: sealed byte 2e6
    // lies in it); which of the first seven were read before the error is up to the stream
    const chunk = blob.chunkSize;
    expect(got).toBeGreaterThan(0);
    expect(got % chunk).toBe(0);
    expect(got).toBeLessThanOrEqual(Math.floor(2_000_000 / (chunk + 32)) * chunk);
  });

  it('a copy replaced after it was found is not opened: ERR_NOT_FOUND', async () => {
    const key = 'local/replaced.bin';
    await c.nodes[0]!.store(key, pattern('v1', 500_000));
    const copy = await findLocalCopy(c.dirs[0]!, key);
    await c.nodes[0]!.store(key, pattern('v2', 600_000));
    await expect(copy!.open()).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const now = await findLocalCopy(c.dirs[0]!, key);
    expect(now!.digest).toBe((await c.nodes[0]!.info(key)).version);
    expect(await sha256Of(await now!.open())).toBe(await patternSha('v2', 600_000));
  });
});
