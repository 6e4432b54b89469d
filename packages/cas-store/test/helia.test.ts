// A real Helia node (@helia/utils' Helia via @helia/http's constructor) with @helia/unixfs on
// CasBlockstore: add a 50 MiB file and a directory, stop, reopen the same root, read them back.
import './promise-with-resolvers.js';

import { createCipheriv, createHash } from 'node:crypto';
import { join } from 'node:path';
import { createHeliaHTTP } from '@helia/http';
import { unixfs } from '@helia/unixfs';
import type { CID } from 'multiformats/cid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CasBlockstore } from '../src/blockstore/index.js';
import { pattern, removeDir, sha256, tempDir } from './helpers.js';

const MIB = 1024 * 1024;
const BIG = 50 * MIB;

/** 50 MiB of deterministic pseudo-random bytes (AES-CTR of zeros), made a chunk at a time. */
async function* bigFile(chunk = MIB): AsyncGenerator<Uint8Array> {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(chunk);
  for (let sent = 0; sent < BIG; sent += chunk) yield cipher.update(zeros);
}

async function digestOf(source: AsyncIterable<Uint8Array>): Promise<{ size: number; sha: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of source) {
    h.update(c);
    size += c.byteLength;
  }
  return { size, sha: h.digest('hex') };
}

/** A Helia node with no network at all: no transports, listeners, discovery, routers or brokers. */
async function offlineHelia(blockstore: CasBlockstore) {
  const helia = await createHeliaHTTP({
    blockstore,
    blockBrokers: [],
    routers: [],
    libp2p: { services: {} },
  });
  expect(helia.libp2p.getMultiaddrs()).toEqual([]);
  return helia;
}

describe('Helia + @helia/unixfs on CasBlockstore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cas-helia-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('adds a 50 MiB file and a directory, and reads them back byte-identical after a restart', async () => {
    const root = join(dir, 'root');
    const small = pattern(300_000, 3);
    const note = Buffer.from('a note in a folder\n');
    const expectedBig = await digestOf(bigFile());

    // First run: add, then stop the node (which stops, and so closes, the blockstore).
    const first = await offlineHelia(new CasBlockstore({ root }));
    const fs1 = unixfs(first);
    const bigCid = await fs1.addByteStream(bigFile());
    const files = new Map<string, CID>();
    let dirCid: CID | undefined;
    for await (const entry of fs1.addAll([
      { path: 'docs/note.txt', content: note },
      { path: 'docs/data/small.bin', content: small },
      { path: 'docs/empty.txt', content: new Uint8Array(0) },
    ])) {
      if (entry.path === 'docs') dirCid = entry.cid;
      else files.set(entry.path, entry.cid);
    }
    expect(dirCid).toBeDefined();
    dirCid = await fs1.cp(bigCid, dirCid!, 'big.bin');
    await first.stop();
    expect(first.libp2p.getConnections()).toEqual([]);

    // Second run on the same root, with a new blockstore object: nothing in memory carries over.
    const store = new CasBlockstore({ root });
    const second = await offlineHelia(store);
    try {
      const fs2 = unixfs(second);
      expect(await digestOf(fs2.cat(bigCid, { offline: true }))).toEqual(expectedBig);
      expect((await fs2.stat(bigCid, { offline: true })).size).toBe(BigInt(BIG));

      // The folder's links, as read back from disk. Files are read by the CIDs the importer gave:
      // with these versions @helia/unixfs cannot cat through a link it decoded itself (dag-pb and
      // the exporter resolve different multiformats majors; blockstore-fs fails the same way).
      const links = new Map<string, string>();
      for await (const e of fs2.ls(dirCid!, { offline: true })) links.set(e.name, e.cid.toString());
      expect(links).toEqual(
        new Map([
          ['big.bin', bigCid.toString()],
          ['data', expect.any(String)],
          ['empty.txt', files.get('docs/empty.txt')!.toString()],
          ['note.txt', files.get('docs/note.txt')!.toString()],
        ]),
      );
      const dataLinks: string[] = [];
      for await (const e of fs2.ls(files.get('docs/data')!, { offline: true })) {
        dataLinks.push(`${e.name} ${e.cid}`);
      }
      expect(dataLinks).toEqual([`small.bin ${files.get('docs/data/small.bin')}`]);
      const cat = (path: string) => digestOf(fs2.cat(files.get(path)!, { offline: true }));
      expect(await cat('docs/note.txt')).toEqual({ size: note.length, sha: sha256(note) });
      expect(await cat('docs/data/small.bin')).toEqual({ size: small.length, sha: sha256(small) });
      expect(await cat('docs/empty.txt')).toEqual({ size: 0, sha: sha256(new Uint8Array(0)) });

      // Every block on disk hashes to its CID: leaves of at most 1 MiB and the nodes above them.
      let blocks = 0;
      for await (const { cid, bytes } of store.getAll()) {
        const { sha } = await digestOf(bytes);
        expect(Buffer.from(cid.multihash.digest).toString('hex')).toBe(sha);
        blocks++;
      }
      expect(blocks).toBeGreaterThan(BIG / MIB);
    } finally {
      await second.stop();
    }
  });
});
