// Benchmark of the built store against baselines measured in the same run (dd, plain fs calls).
// Usage: pnpm bench  (env: BENCH_DIR, BENCH_BLOBS=100000, BENCH_GIB=1)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CasStore } from '../dist/index.js';

const DIR = process.env.BENCH_DIR ?? '/work/tmp-bench-cas';
const BLOBS = Number(process.env.BENCH_BLOBS ?? 100_000);
const GIB = Number(process.env.BENCH_GIB ?? 1);
const MIB = 1024 * 1024;
const BIG = GIB * 1024 * MIB;
const CONCURRENCY = 32;
const NS = 'a'.repeat(64);

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 50);

const now = () => performance.now();
const mbps = (bytes, ms) => bytes / MIB / (ms / 1000);
const rows = [];
function row(what, ours, base, unit, baseName) {
  rows.push({ what, ours, base, unit, baseName });
  const ratio = base
    ? ` (${((ours / base) * 100).toFixed(0)}% of ${baseName} ${base.toFixed(1)} ${unit})`
    : '';
  console.log(`${what.padEnd(34)} ${ours.toFixed(1).padStart(10)} ${unit}${ratio}`);
}

async function pool(n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function dd(args) {
  const t = now();
  const r = spawnSync('dd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`dd failed: ${r.stderr}`);
  return now() - t;
}

async function* zeros(total) {
  const chunk = Buffer.alloc(MIB);
  for (let sent = 0; sent < total; sent += MIB) yield chunk;
}

async function main() {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const df = spawnSync('df', ['-T', DIR]).stdout.toString().trim().split('\n').pop();
  console.log(
    `bench dir ${DIR} (${df?.split(/\s+/)[1]}), node ${process.version}, ${GIB} GiB blob, ${BLOBS} small blobs`,
  );

  // --- large blob: best of three interleaved rounds against dd conv=fsync ---
  const ddFile = join(DIR, 'dd.bin');
  const store = new CasStore({ root: join(DIR, 'store') });
  await store.open();
  let ddBest = Number.POSITIVE_INFINITY;
  let oursBest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    ddBest = Math.min(
      ddBest,
      dd(['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${GIB * 1024}`, 'conv=fsync']),
    );
    await rm(ddFile);
    await store.delete(NS, 'big');
    const t = now();
    const res = await store.write(NS, 'big', zeros(BIG));
    oursBest = Math.min(oursBest, now() - t);
    if (res.size !== BIG) throw new Error('size mismatch');
  }
  row('write 1 GiB + fsync', mbps(BIG, oursBest), mbps(BIG, ddBest), 'MB/s', 'dd');

  dd(['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${GIB * 1024}`, 'conv=fsync']);
  const ddRead = dd([`if=${ddFile}`, 'of=/dev/null', 'bs=1M']);
  await rm(ddFile);
  let t = now();
  let got = 0;
  const { stream } = await store.read(NS, 'big');
  for await (const c of stream) got += c.length;
  const readMs = now() - t;
  if (got !== BIG) throw new Error('read size mismatch');
  row('read 1 GiB (page cache)', mbps(BIG, readMs), mbps(BIG, ddRead), 'MB/s', 'dd');
  await store.clear();

  // --- many small blobs, 32 in flight, against plain temp+fsync+rename files ---
  const body = randomBytes(1024);
  const plainDir = join(DIR, 'plain');
  await mkdir(plainDir);
  for (let i = 0; i < 256; i++) await mkdir(join(plainDir, i.toString(16).padStart(2, '0')));
  t = now();
  await pool(BLOBS, async (i) => {
    const p = join(plainDir, (i & 0xff).toString(16).padStart(2, '0'), String(i));
    const fh = await open(`${p}.tmp`, 'wx');
    await fh.writeFile(body);
    await fh.sync();
    await fh.close();
    await rename(`${p}.tmp`, p);
    const dh = await open(dirname(p), 'r');
    await dh.sync();
    await dh.close();
  });
  const plainWriteMs = now() - t;
  t = now();
  await pool(BLOBS, async (i) => {
    await readFile(join(plainDir, (i & 0xff).toString(16).padStart(2, '0'), String(i)));
  });
  const plainReadMs = now() - t;
  t = now();
  const plainCount = (await readdir(plainDir, { recursive: true })).length;
  const plainListMs = now() - t;
  await rm(plainDir, { recursive: true, force: true });

  t = now();
  await pool(BLOBS, (i) => store.write(NS, `small-${i}`, [body]));
  const writeMs = now() - t;
  t = now();
  await pool(BLOBS, async (i) => {
    const { stream: s } = await store.read(NS, `small-${i}`);
    for await (const _ of s);
  });
  const readSmallMs = now() - t;
  t = now();
  let listed = 0;
  for await (const _ of store.list(NS)) listed++;
  const listMs = now() - t;
  if (listed !== BLOBS || plainCount < BLOBS) throw new Error(`listed ${listed}`);
  t = now();
  await new CasStore({ root: join(DIR, 'store') }).open();
  const openMs = now() - t;

  row(
    `write ${BLOBS} x 1 KiB (fsync)`,
    BLOBS / (writeMs / 1000),
    BLOBS / (plainWriteMs / 1000),
    'writes/s',
    'plain tmp+fsync+rename+dir fsync',
  );
  row(
    `read ${BLOBS} x 1 KiB`,
    BLOBS / (readSmallMs / 1000),
    BLOBS / (plainReadMs / 1000),
    'reads/s',
    'readFile',
  );
  row(
    `list ${BLOBS} (${(listMs / 1000).toFixed(1)} s)`,
    BLOBS / (listMs / 1000),
    BLOBS / (plainReadMs / 1000),
    'entries/s',
    'readFile',
  );
  console.log(`  (readdir -r of the plain tree, names only: ${(plainListMs / 1000).toFixed(2)} s)`);
  row(`open() sweep of ${BLOBS}`, openMs / 1000, 0, 's', '');
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  console.log(
    `peak RSS ${(peakRss / MIB).toFixed(0)} MiB (maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
  );
}

try {
  await main();
} finally {
  clearInterval(sampler);
  await rm(DIR, { recursive: true, force: true });
}
