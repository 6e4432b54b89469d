// One bench run in its own process, so its peak RSS is its own: put then get N blocks of SIZE
// bytes through one blockstore (ours or blockstore-fs), printing the figures as one JSON line.
// Usage: node bench/blockstore-worker.mjs <cas|fs> <count> <size> <dir>
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { FsBlockstore } from 'blockstore-fs';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { CasBlockstore } from '../dist/blockstore/index.js';

const [impl, countText, sizeText, dir] = process.argv.slice(2);
const COUNT = Number(countText);
const SIZE = Number(sizeText);
const READERS = 32;

const base = randomBytes(SIZE);
function block(i) {
  const b = Buffer.allocUnsafe(SIZE);
  base.copy(b);
  b.writeUInt32BE(i, 0); // every block distinct
  return b;
}
const cids = new Array(COUNT);
for (let i = 0; i < COUNT; i++) {
  const digest = createHash('sha256').update(block(i)).digest();
  cids[i] = CID.createV1(0x55, Digest.create(0x12, digest));
}

const store = impl === 'cas' ? new CasBlockstore({ root: dir }) : new FsBlockstore(dir);
await store.open();

let t = performance.now();
let put = 0;
async function* pairs() {
  for (let i = 0; i < COUNT; i++) yield { cid: cids[i], bytes: block(i) };
}
for await (const _ of store.putMany(pairs())) put++;
const putMs = performance.now() - t;
if (put !== COUNT) throw new Error(`put ${put} of ${COUNT}`);

const du = spawnSync('du', ['-s', '-B1', dir]).stdout.toString();
const diskBytes = Number(du.split(/\s+/)[0]);

t = performance.now();
let next = 0;
let got = 0;
await Promise.all(
  Array.from({ length: READERS }, async () => {
    while (next < COUNT) {
      const i = next++;
      for await (const c of store.get(cids[i])) got += c.byteLength;
    }
  }),
);
const getMs = performance.now() - t;
if (got !== COUNT * SIZE) throw new Error(`read ${got} bytes, expected ${COUNT * SIZE}`);
const parts = [];
for await (const c of store.get(cids[COUNT - 1])) parts.push(c);
const check = Buffer.concat(parts);
if (!check.equals(block(COUNT - 1))) throw new Error('last block read back wrong');
await store.close();

console.log(
  JSON.stringify({ impl, putMs, getMs, diskBytes, maxRssKiB: process.resourceUsage().maxRSS }),
);
