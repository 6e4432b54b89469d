import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { deriveFileId } from '@peerstash/crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import {
  type Cluster,
  flipByte,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  waitFor,
  walk,
} from './helpers.js';

// small records and ranges, so a few MB is many ranges: 4 records of 64 KiB per range
const CHUNK = 64 * 1024;
const RANGE = 256 * 1024;
const HEADER = 54;
const TAG = 32;

async function metric(node: FileServer, line: RegExp): Promise<number> {
  const m = line.exec(await node.metrics.registry.metrics());
  return m ? Number(m[1]) : 0;
}
const sentToPeers = (n: FileServer) => metric(n, /peerstash_bytes_out_total\{via="peer"\} (\d+)/);
const peerRot = (n: FileServer) =>
  metric(n, /peerstash_integrity_failures_total\{source="peer"\} (\d+)/);

/** The blob file holding `key` in a node's data dir (found through its metadata). */
async function blobOf(c: Cluster, node: number, key: string): Promise<string> {
  const id = deriveFileId(c.vaultKey, key);
  for (const p of await walk(c.dirs[node]!)) {
    if (p.endsWith('.meta.json') && (await readFile(p, 'utf8')).includes(id)) {
      const meta = JSON.parse(await readFile(p, 'utf8')) as { blob: string };
      return p.replace(/[^/]+$/, meta.blob);
    }
  }
  throw new Error(`node ${node} holds no blob of ${key}`);
}

/** Flips one ciphertext byte in the first record of every range: each range it serves is bad. */
async function rotEveryRange(path: string, size: number): Promise<void> {
  for (let at = 0; at < size; at += RANGE) {
    const record = at / CHUNK;
    await flipByte(path, HEADER + record * (CHUNK + TAG) + 100);
  }
}

describe('multi-source get', () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  /** Three nodes, every one a holder; the third drops its copy, so it reads from the other two. */
  async function setup(key: string, size: number, stallTimeoutMs?: number) {
    c = await startCluster(3, {
      chunkSize: CHUNK,
      getRangeBytes: RANGE,
      ...(stallTimeoutMs ? { stallTimeoutMs } : {}),
    });
    const [a, b, reader] = c.nodes as [FileServer, FileServer, FileServer];
    const put = await a.store(key, pattern(key, size));
    expect(put.replicas).toBe(2);
    await reader.delete(key);
    expect(await reader.has(key)).toBe(false);
    return { a, b, reader };
  }

  it('reads disjoint ranges from both holders, byte-identical, and keeps a local copy', async () => {
    const key = 'two-holders';
    const size = 5_000_000 + 12_345;
    const { a, b, reader } = await setup(key, size);
    const [a0, b0] = [await sentToPeers(a), await sentToPeers(b)];
    const got = await reader.read(key);
    expect(got.source).toBe('peer');
    expect(await sha256Of(got.stream)).toBe(await patternSha(key, size));
    const [fromA, fromB] = [(await sentToPeers(a)) - a0, (await sentToPeers(b)) - b0];
    // each served a real share of the file, and together about one copy (plus a header a range)
    expect(fromA).toBeGreaterThan(size / 5);
    expect(fromB).toBeGreaterThan(size / 5);
    expect(fromA + fromB).toBeLessThan(size * 1.05);
    expect(await peerRot(reader)).toBe(0);
    // the records, in order, became a local copy that hashes to the version
    await waitFor('local copy kept', () => reader.has(key));
    const again = await reader.read(key);
    expect(again.source).toBe('local');
    expect(await sha256Of(again.stream)).toBe(await patternSha(key, size));
  });

  it('over HTTP, a client that closes once it has every byte is a whole download, not a broken one', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    c = await startCluster(3, { chunkSize: CHUNK, getRangeBytes: RANGE, api: true, logger });
    const [a, , reader] = c.nodes as [FileServer, FileServer, FileServer];
    const key = 'closed-at-the-end';
    const size = 3_000_000;
    await a.store(key, pattern(key, size));
    await reader.delete(key);
    const api = (await readApiInfo(c.dirs[2]!))!;
    // as curl does: the socket closes the moment the body's last byte (by content-length) is in
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = httpGet(
        `${api.url}/v1/files/${key}`,
        { headers: { authorization: `Bearer ${api.token}` }, agent: false },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => {
            res.socket.destroy();
            resolve(Buffer.concat(parts));
          });
        },
      );
      req.on('error', reject);
    });
    expect(createHash('sha256').update(body).digest('hex')).toBe(await patternSha(key, size));
    // the fetched copy still commits, and nothing calls the download broken
    await waitFor('local copy kept', () => reader.has(key));
    expect(lines.filter((l) => l.includes('broke off'))).toEqual([]);
  });

  it('a holder serving a flipped byte: that range fails verification and comes from the other', async () => {
    const key = 'one-rotten-holder';
    // a multiple of the chunk size: the local copy needs the empty final record no range carries
    const size = 16 * RANGE;
    const { b, reader } = await setup(key, size);
    await rotEveryRange(await blobOf(c!, 1, key), size);
    expect(await sha256Of(await reader.get(key))).toBe(await patternSha(key, size));
    expect(await peerRot(reader)).toBeGreaterThanOrEqual(1);
    // the rotten holder was told, re-checked its copy and dropped it
    await waitFor('rotten copy dropped', async () => !(await b.has(key)));
    // the local copy was assembled from sound ranges only
    await waitFor('local copy kept', () => reader.has(key));
    expect(await sha256Of(await reader.get(key))).toBe(await patternSha(key, size));
  });

  it('every holder rotten: ERR_INTEGRITY, never wrong bytes', async () => {
    const key = 'all-rotten';
    const size = 3_000_000;
    const { reader } = await setup(key, size);
    // a and b both rot the range at 1 MiB (the first range is sound, so the get starts)
    for (const n of [0, 1]) {
      await flipByte(await blobOf(c!, n, key), HEADER + 16 * (CHUNK + TAG) + 7);
    }
    const stream = await reader.get(key);
    let delivered = 0;
    const h = createHash('sha256');
    let reason: unknown;
    try {
      for await (const chunk of stream) {
        h.update(chunk as Buffer);
        delivered += (chunk as Buffer).length;
      }
    } catch (err) {
      reason = err;
    }
    // whatever did arrive is the file's first bytes
    expect(h.digest('hex')).toBe(await patternSha(key, delivered));
    expect(reason).toMatchObject({ code: 'ERR_INTEGRITY' });
    expect(delivered).toBeLessThanOrEqual(1024 * 1024);
    expect(await reader.has(key)).toBe(false);
  });

  it('a holder that stops mid-get: its ranges move to the other and the bytes are right', async () => {
    const key = 'holder-stops';
    const size = 6_000_000;
    const { b, reader } = await setup(key, size, 2000);
    const stream = await reader.get(key);
    const want = await patternSha(key, size);
    let seen = 0;
    let stopped: Promise<void> | undefined;
    const h = createHash('sha256');
    for await (const chunk of stream) {
      h.update(chunk as Buffer);
      seen += (chunk as Buffer).length;
      if (!stopped && seen >= size / 4) stopped = b.stop();
    }
    await stopped;
    expect(seen).toBe(size);
    expect(h.digest('hex')).toBe(want);
  });

  it('a file under two ranges is read from one holder, as before', async () => {
    const key = 'small';
    const size = RANGE + 1000;
    const { a, b, reader } = await setup(key, size);
    const [a0, b0] = [await sentToPeers(a), await sentToPeers(b)];
    expect(await sha256Of(await reader.get(key))).toBe(await patternSha(key, size));
    const shares = [(await sentToPeers(a)) - a0, (await sentToPeers(b)) - b0];
    // one holder sent the whole sealed blob, the other nothing
    expect(shares.filter((n) => n === 0)).toHaveLength(1);
  });
});
