// Range reads over HTTP: every boundary, local and from a peer, reading only the sealed records a
// range needs; a flipped byte inside the range is an integrity error, never wrong bytes.

import { sealedRange } from '@peerstash/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import { blobFiles, type Cluster, flipByte, pattern, startCluster } from './helpers.js';

const CHUNK = 256 * 1024;
const SIZE = 4 * CHUNK + 123;
const KEY = 'media/clip.bin';

let c: Cluster;
let data: Buffer;
let holder: number;
let replica: number;
let reader: number;

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function get(i: number, range?: string) {
  const api = (await readApiInfo(c.dirs[i]!))!;
  const res = await fetch(`${api.url}/v1/files/${encodeURIComponent(KEY)}`, {
    headers: { authorization: `Bearer ${api.token}`, ...(range ? { range } : {}) },
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

/** Where plaintext byte `at` sits in the sealed blob (inside its record's ciphertext). */
function sealedOffsetOf(at: number): number {
  const plan = sealedRange({ start: at, end: at }, SIZE, CHUNK);
  return plan.body.offset + (at % CHUNK);
}

beforeAll(async () => {
  c = await startCluster(3, { replicationFactor: 1, api: true });
  data = await collect(pattern('clip', SIZE));
  const r = await c.nodes[0]!.store(KEY, pattern('clip', SIZE));
  expect(r.replicas).toBe(1);
  const has = await Promise.all(c.nodes.map((n: FileServer) => n.has(KEY)));
  holder = 0;
  replica = has.findIndex((h, i) => h && i !== 0);
  reader = has.findIndex((h) => !h);
  expect(replica).toBeGreaterThan(0);
  expect(reader).toBeGreaterThan(0);
});

afterAll(async () => {
  await c?.stop();
});

const cases: Array<[string, number, number]> = [
  ['bytes=0-0', 0, 0],
  [`bytes=${SIZE - 1}-${SIZE - 1}`, SIZE - 1, SIZE - 1],
  [`bytes=${SIZE - 1}-`, SIZE - 1, SIZE - 1],
  [`bytes=${CHUNK - 1}-${CHUNK}`, CHUNK - 1, CHUNK],
  [`bytes=${CHUNK}-${2 * CHUNK - 1}`, CHUNK, 2 * CHUNK - 1],
  [`bytes=${3 * CHUNK - 5}-${4 * CHUNK + 5}`, 3 * CHUNK - 5, 4 * CHUNK + 5],
  ['bytes=-1', SIZE - 1, SIZE - 1],
  ['bytes=-300000', SIZE - 300_000, SIZE - 1],
  ['bytes=1000-', 1000, SIZE - 1],
  [`bytes=10-${SIZE * 9}`, 10, SIZE - 1],
  [`bytes=-${SIZE * 2}`, 0, SIZE - 1],
];

describe('GET with Range', () => {
  for (const where of ['local', 'peer'] as const) {
    it(`serves every boundary as 206 with Content-Range (${where})`, async () => {
      const node = where === 'local' ? holder : reader;
      for (const [range, start, end] of cases) {
        const res = await get(node, range);
        expect(res.status, range).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`);
        expect(res.headers.get('content-length')).toBe(String(end - start + 1));
        expect(res.headers.get('x-peerstash-source')).toBe(where);
        expect(res.body.equals(data.subarray(start, end + 1)), range).toBe(true);
      }
      const whole = await get(node);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(whole.body.equals(data)).toBe(true);
      for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 10}-${SIZE + 20}`, 'bytes=-0']) {
        const res = await get(node, range);
        expect(res.status, range).toBe(416);
        expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`);
        expect(JSON.parse(res.body.toString())).toMatchObject({
          code: 'ERR_RANGE_NOT_SATISFIABLE',
        });
      }
      // a range is no copy: the reader still holds none (the whole GET above kept one)
      if (where === 'peer') expect((await c.nodes[reader]!.status()).blobs).toBe(1);
    });
  }

  it('a ranged read from a peer keeps nothing locally', async () => {
    await c.nodes[reader]!.delete(KEY);
    const res = await get(reader, 'bytes=5-10');
    expect(res.status).toBe(206);
    expect(await c.nodes[reader]!.has(KEY)).toBe(false);
  });

  it('reads only the records it needs; a flipped byte inside the range is never served', async () => {
    const [holderBlob] = await blobFiles(c.dirs[holder]!);
    const [replicaBlob] = await blobFiles(c.dirs[replica]!);
    // the holder's copy rots in record 1: a range there comes from the replica, right bytes
    await flipByte(holderBlob!, sealedOffsetOf(CHUNK + 7));
    let res = await get(holder, `bytes=${CHUNK}-${CHUNK + 99}`);
    expect(res.status).toBe(206);
    expect(res.headers.get('x-peerstash-source')).toBe('peer');
    expect(res.body.equals(data.subarray(CHUNK, CHUNK + 100))).toBe(true);

    // both copies rot in records 0 and 3: a range in record 2 is still served from them, so no
    // record before or after it was read...
    for (const blob of [holderBlob!, replicaBlob!]) {
      await flipByte(blob, sealedOffsetOf(3));
      await flipByte(blob, sealedOffsetOf(3 * CHUNK + 11));
    }
    for (const node of [holder, reader]) {
      res = await get(node, `bytes=${2 * CHUNK}-${3 * CHUNK - 1}`);
      expect(res.status).toBe(206);
      expect(res.body.equals(data.subarray(2 * CHUNK, 3 * CHUNK))).toBe(true);
    }
    // ...and one inside record 3 is an integrity error, locally and from a peer
    for (const node of [holder, reader]) {
      res = await get(node, `bytes=${3 * CHUNK + 5}-${3 * CHUNK + 20}`);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'ERR_INTEGRITY' });
    }
  });
});
