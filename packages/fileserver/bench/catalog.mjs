// Catalog micro-benchmark (not part of `pnpm bench` yet): fills a catalog with 1,000,000 records
// by the bulk path and times the reads a node serves from it, an idle sync exchange, and RSS.
// Run after a build: node bench/catalog.mjs   (CATALOG_FILES=… to change the size)
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deriveFileId,
  deriveNamespace,
  newEncryptionKey,
  sealBytes,
  sealedSize,
} from '@peerstash/crypto';
import { decodeMessage, encodeMessage } from '@peerstash/transport-tcp';
import { Catalog } from '../dist/catalog/catalog.js';
import { parseCatalogMessage } from '../dist/catalog/messages.js';
import { serveCatalog, syncWithPeer } from '../dist/catalog/sync.js';

const FILES = Number(process.env.CATALOG_FILES ?? 1_000_000);
const BIG = 10_000; // files in the one big folder
const PER_DIR = 1000;
const BATCH = 5000;
const MIB = 1024 * 1024;

const vaultKey = newEncryptionKey();
const vault = { key: vaultKey, ns: deriveNamespace(vaultKey) };
const nodeA = 'a'.repeat(64);
const nodeB = 'b'.repeat(64);

// RSS splits into anonymous memory (heap, buffers: what the process really uses) and mapped
// file pages (LMDB reads the database through a memory map: page cache the kernel can drop)
const peak = { rss: 0, anon: 0, file: 0 };
const sample = () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0) * 1024;
  peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
  peak.anon = Math.max(peak.anon, kb('RssAnon'));
  peak.file = Math.max(peak.file, kb('RssFile'));
};
const timer = setInterval(sample, 50);

const nameOf = (i) =>
  i < BIG
    ? `big/${String(i).padStart(5, '0')}.dat`
    : `d${String(Math.floor((i - BIG) / PER_DIR)).padStart(4, '0')}/f${String((i - BIG) % PER_DIR).padStart(4, '0')}.txt`;

// deriveFileId's formula with its key derived once (checked against deriveFileId below): the bulk
// path spares one HKDF per record; the names are sealed for real, one sealBytes each.
const idKey = Buffer.from(
  hkdfSync('sha256', vaultKey, Buffer.alloc(0), 'peerstash/v1/file-id', 32),
);
const fileId = (name) => createHmac('sha256', idKey).update(name, 'utf8').digest('hex');
if (fileId('x/y') !== deriveFileId(vaultKey, 'x/y')) throw new Error('file id formula drifted');

/** Records as a writer makes them, with the names it knows (so the index needs no open). */
function batchOf(from, to, wall) {
  const out = [];
  for (let i = from; i < to; i++) {
    const name = nameOf(i);
    const size = 1024 + (i % 4096);
    out.push({
      name,
      record: {
        ns: vault.ns,
        id: fileId(name),
        hlc: { wall, counter: i % 65536, node: nodeA },
        name: sealBytes(vaultKey, Buffer.from(name)),
        deleted: false,
        version: createHash('sha256').update(name).digest('hex'),
        size,
        sealedSize: sealedSize(size),
      },
    });
  }
  return out;
}

async function time(fn, runs = 1) {
  const ms = [];
  let out;
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    out = await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[Math.floor(ms.length / 2)], first: ms[0], out };
}

/** A peer-rpc to catalog `b` through the real message codec and parser; counts messages and bytes. */
function connect(b) {
  const stats = { requests: 0, bytes: 0 };
  const handlers = new Map();
  serveCatalog({ handle: (type, fn) => handlers.set(type, fn) }, b);
  let seq = 0;
  const peers = {
    peers: () => [nodeB],
    async request(_peer, msg) {
      stats.requests++;
      const reqId = `r${++seq}`;
      const out = encodeMessage({ ...msg, reqId });
      stats.bytes += out.length;
      const parsed = parseCatalogMessage(decodeMessage(out));
      const reply = await handlers.get(parsed.type)(parsed, nodeA);
      const back = encodeMessage({ ...reply, reqId });
      stats.bytes += back.length;
      return parseCatalogMessage(decodeMessage(back));
    },
  };
  return { peers, stats };
}

const root = await mkdtemp(join(tmpdir(), 'catalog-bench-'));
try {
  const pathA = join(root, 'a');
  console.log(
    `@peerstash/fileserver catalog bench — ${FILES.toLocaleString()} records, Node ${process.version}`,
  );
  let a = Catalog.open({ path: pathA, nodeId: nodeA, vault });
  const wall = Date.now() - 3600_000;
  const fill = await time(async () => {
    let pending = Promise.resolve();
    for (let i = 0; i < FILES; i += BATCH) {
      const items = batchOf(i, Math.min(FILES, i + BATCH), wall + Math.floor(i / 65536));
      await pending; // one transaction commits while the next batch is sealed
      pending = a.applyMany(items).then(() => {});
      sample();
    }
    await pending;
  });
  const counts = a.counts();
  if (counts.files !== FILES) throw new Error(`filled ${counts.files}, not ${FILES}`);
  console.log(
    `bulk fill (records sealed here, applied 5,000 per transaction): ${(fill.ms / 1000).toFixed(1)} s, ` +
      `${Math.round(FILES / (fill.ms / 1000)).toLocaleString()} records/s`,
  );
  await a.close();
  const dbBytes = (await stat(join(pathA, 'data.mdb'))).size;

  // open to ready: open, then answer a first stat
  const ready = await time(async () => {
    const c = Catalog.open({ path: pathA, nodeId: nodeA, vault });
    c.stat(nameOf(FILES - 1));
    return c;
  });
  a = ready.out;

  const rows = [];
  const row = (what, r, extra = '') => rows.push([what, r, extra]);
  row('open to ready (open + first stat)', ready);
  const firstPage = await time(
    () =>
      a.list({
        prefix: `d${String(Math.floor((FILES - BIG) / PER_DIR / 2)).padStart(4, '0')}/`,
        limit: 1000,
      }),
    5,
  );
  if (firstPage.out.entries.length !== 1000) throw new Error('first page is short');
  row('first page of 1,000 under a prefix', firstPage);
  const rootPage = await time(() => a.list({ delimiter: '/', limit: 1000 }), 5);
  row(
    'first page of the root with delimiter /',
    rootPage,
    `${rootPage.out.prefixes.length} folders, one seek each`,
  );
  let k = 0;
  const statOne = await time(() => {
    k = (k + 7919) % FILES;
    return a.stat(nameOf(k));
  }, 1001);
  row('stat of one key (median of 1,001)', statOne);
  const big = await time(() => {
    let n = 0;
    let after;
    for (;;) {
      const page = a.list({ prefix: 'big/', limit: 1000, ...(after ? { after } : {}) });
      n += page.entries.length;
      if (!page.next) return n;
      after = page.next;
    }
  }, 3);
  if (big.out !== BIG) throw new Error(`big folder listed ${big.out}`);
  row('ls -r of a 10,000-file folder (10 pages)', big);
  const countsTime = await time(() => a.counts(), 101);
  row('counts (status: files, bytes)', countsTime);

  // an idle exchange: b is a copy of a, so the two agree on every record
  await a.close();
  const pathB = join(root, 'b');
  await cp(pathA, pathB, { recursive: true });
  a = Catalog.open({ path: pathA, nodeId: nodeA, vault });
  const b = Catalog.open({ path: pathB, nodeId: nodeB, vault });
  const link = connect(b);
  const idle = await time(async () => {
    link.stats.requests = 0;
    link.stats.bytes = 0;
    return syncWithPeer(a, link.peers, nodeB);
  }, 21);
  row(
    'idle sync exchange (median of 21)',
    idle,
    `${link.stats.requests} message, ${link.stats.bytes} bytes both ways`,
  );
  const cpu = process.cpuUsage();
  for (let i = 0; i < 100; i++) await syncWithPeer(a, link.peers, nodeB);
  const used = process.cpuUsage(cpu);
  const idleCpu = (used.user + used.system) / 100 / 1000;
  // one record differs
  const one = await b
    .beginPut('d0500/new.txt')
    .commit({ version: 'c'.repeat(64), size: 1, sealedSize: sealedSize(1) });
  const diff = await time(async () => {
    link.stats.requests = 0;
    link.stats.bytes = 0;
    return syncWithPeer(a, link.peers, nodeB);
  });
  if (diff.out.applied !== 1 || a.stat('d0500/new.txt')?.version !== one.record.version)
    throw new Error('sync missed it');
  row(
    'sync exchange, one record differs',
    diff,
    `${link.stats.requests} messages, ${link.stats.bytes} bytes`,
  );
  await a.close();
  await b.close();
  clearInterval(timer);
  sample();

  for (const [what, r, extra] of rows) {
    console.log(`${what.padEnd(44)} ${r.ms.toFixed(3).padStart(9)} ms   ${extra}`);
  }
  console.log(`idle exchange CPU: ${idleCpu.toFixed(3)} ms per exchange (100 exchanges)`);
  console.log(
    `database file: ${(dbBytes / MIB).toFixed(0)} MiB (${Math.round(dbBytes / FILES)} bytes per record, all indexes)`,
  );
  console.log(
    `peak RSS: ${(peak.rss / MIB).toFixed(0)} MiB = anonymous ${(peak.anon / MIB).toFixed(0)} MiB ` +
      `+ mapped database pages ${(peak.file / MIB).toFixed(0)} MiB (page cache, reclaimable) at their peaks`,
  );
} finally {
  clearInterval(timer);
  await rm(root, { recursive: true, force: true });
}
