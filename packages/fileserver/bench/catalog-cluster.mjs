// Catalog cluster benchmark: a catalog of CATALOG_FILES entries (default 1,000,000; filled by
// bulkLoadCatalog into the stopped nodes' data dirs, records only, no blobs) on 3 nodes run as real
// child processes. Times the first page under a prefix and a stat over HTTP, the real
// `peerstash ls -r` of a 10,000-file folder, node start to ready and an idle repair round (CPU
// and bytes written, at 1/10 of the size too: it must not grow), and each node's peak RSS.
// Baseline from the same run: a raw lmdb range read of 1,000 records of the same database.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { open } from 'lmdb';
import { bulkLoadCatalog } from '../dist/catalog/bulk-load.js';
import { NODE_FLAGS } from '../dist/index.js';

const FILES = Number(process.env.CATALOG_FILES ?? 1_000_000);
const BIG = 10_000;
const PER_DIR = 1000;
const ROUND_MS = 3000;
const CLI = new URL('../../../apps/cli/dist/bin.js', import.meta.url).pathname;
const NODE = new URL('./node.mjs', import.meta.url).pathname;

const nameOf = (i) =>
  i < BIG
    ? `big/${String(i).padStart(5, '0')}.dat`
    : `d${String(Math.floor((i - BIG) / PER_DIR)).padStart(4, '0')}/f${String((i - BIG) % PER_DIR).padStart(4, '0')}.txt`;
function* files(n) {
  for (let i = 0; i < n; i++) yield { key: nameOf(i), size: 1024 + (i % 4096) };
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
  return { ms: ms[Math.floor(ms.length / 2)], out };
}

async function startNode(cfg) {
  const t = process.hrtime.bigint();
  const child = spawn(process.execPath, [...NODE_FLAGS, NODE, JSON.stringify(cfg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const readyMs = Number(process.hrtime.bigint() - t) / 1e6;
  const info = JSON.parse(line);
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return { ...info, child, token, dataDir: cfg.dataDir, readyMs };
}
async function stopNode(n) {
  // an exited node emits no second 'exit' (an unsettled top-level await exits 13)
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = once(n.child, 'exit');
  n.child.kill('SIGTERM');
  await exited;
}
const call = (n, path, method = 'GET') =>
  fetch(`${n.api}${path}`, { method, headers: { authorization: `Bearer ${n.token}` } });
const status = async (n) => (await call(n, '/v1/status')).json();
async function proc(pid) {
  const st = await readFile(`/proc/${pid}/status`, 'utf8');
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  return {
    hwmMiB: Number(/VmHWM:\s+(\d+)/.exec(st)[1]) / 1024,
    cpuMs: ((Number(stat[11]) + Number(stat[12])) * 1000) / 100, // utime + stime, 100 Hz ticks
    wchar: Number(/wchar:\s+(\d+)/.exec(io)[1]),
  };
}

/** An idle round of node 0: CPU and bytes written (sockets; LMDB reads go through a map). */
async function idleRound(n) {
  let at = (await status(n)).lastRepairAt;
  const wait = async () => {
    for (;;) {
      const now = (await status(n)).lastRepairAt;
      if (now !== at) {
        at = now;
        return;
      }
      await sleep(50);
    }
  };
  await wait();
  const rounds = 3;
  const before = await proc(n.pid);
  for (let i = 0; i < rounds; i++) await wait();
  const after = await proc(n.pid);
  return {
    cpuMs: (after.cpuMs - before.cpuMs) / rounds,
    bytes: (after.wchar - before.wchar) / rounds,
  };
}

async function cluster(root, count, vaultKey, measure) {
  const secret = randomBytes(32).toString('base64');
  const dirs = [0, 1, 2].map((i) => join(root, `${count}-${i}`));
  for (const d of dirs) await mkdir(d, { recursive: true });
  const fill = await time(() => bulkLoadCatalog(dirs, { vaultKey, files: files(count) }));
  const cfg = (dataDir, bootstrap) => ({
    dataDir,
    bootstrap,
    vaultKey: vaultKey.toString('base64'),
    clusterSecret: secret,
    repairIntervalMs: ROUND_MS,
  });
  const first = await startNode(cfg(dirs[0], []));
  const nodes = [first];
  for (const d of dirs.slice(1)) nodes.push(await startNode(cfg(d, [first.address])));
  try {
    for (;;) {
      if ((await status(first)).peers.length === 2) break;
      await sleep(100);
    }
    return { fill, nodes, ...(await measure(nodes, dirs)) };
  } finally {
    const rss = [];
    for (const n of nodes) rss.push((await proc(n.pid)).hwmMiB);
    await Promise.all(nodes.map(stopNode));
    nodes.rss = rss;
  }
}

function runCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    child.stdout.on('data', (b) => {
      for (const c of b) if (c === 10) lines++;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(lines) : reject(new Error(`cli exit ${code}`)),
    );
  });
}

const root = await mkdtemp(join(tmpdir(), 'catalog-cluster-bench-'));
const vaultKey = randomBytes(32);
try {
  console.log(
    `@peerstash/fileserver catalog cluster bench — ${FILES.toLocaleString()} entries on 3 nodes (child processes), Node ${process.version}`,
  );
  console.log(
    'catalogs filled by bulkLoadCatalog (records only, no blobs; the put path is not timed here)',
  );
  const small = await cluster(root, Math.round(FILES / 10), vaultKey, async (nodes) => ({
    idle: await idleRound(nodes[0]),
  }));
  const big = await cluster(root, FILES, vaultKey, async (nodes, dirs) => {
    const prefix = `d${String(Math.floor((FILES - BIG) / PER_DIR / 2)).padStart(4, '0')}/`;
    const page = await time(async () => {
      const body = await (await call(nodes[0], `/v1/files?prefix=${prefix}&limit=1000`)).json();
      if (body.files.length !== 1000) throw new Error(`page of ${body.files.length}`);
    }, 11);
    let k = 0;
    const head = await time(async () => {
      k = (k + 7919) % FILES;
      const res = await call(nodes[0], `/v1/files/${encodeURIComponent(nameOf(k))}`, 'HEAD');
      if (res.status !== 200) throw new Error(`HEAD ${res.status}`);
    }, 201);
    const ls = await time(() => runCli(['ls', '-r', 'big/', '--dir', dirs[0]]), 3);
    if (ls.out < BIG) throw new Error(`ls printed ${ls.out} lines`);
    const idle = await idleRound(nodes[0]);
    return { page, head, ls, idle };
  });
  // baseline: a raw lmdb range read of 1,000 records of the same database (node stopped)
  const env = open({ path: join(root, `${FILES}-0`, 'catalog'), maxDbs: 12, readOnly: true });
  const db = env.openDB({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
  const raw = await time(() => {
    let n = 0;
    for (const { value } of db.getRange({ start: Buffer.from([0x80]), limit: 1000 }))
      n += value.length;
    return n;
  }, 11);
  await env.close();

  const row = (what, ms, target, extra = '') =>
    console.log(
      `${what.padEnd(40)} ${ms.toFixed(2).padStart(9)} ms  ${target.padEnd(18)} ${extra}`,
    );
  const x = (ms) => `${(ms / raw.ms).toFixed(1)}× raw lmdb`;
  console.log(`bulk fill of 3 catalogs: ${(big.fill.ms / 1000).toFixed(1)} s`);
  row('raw lmdb range read of 1,000 (baseline)', raw.ms, '');
  row('first page of 1,000 under a prefix', big.page.ms, target(big.page.ms, 50), x(big.page.ms));
  row('stat (HEAD) of one key, median of 201', big.head.ms, target(big.head.ms, 5));
  row('peerstash ls -r of 10,000 files (CLI)', big.ls.ms, '', 'whole CLI process');
  big.nodes.forEach((n, i) => {
    row(
      `node ${i + 1} start to ready`,
      n.readyMs,
      target(n.readyMs, 2000),
      'process spawn to API up',
    );
  });
  for (const [label, r] of [
    [`${(FILES / 10).toLocaleString()} entries`, small],
    [`${FILES.toLocaleString()} entries`, big],
  ]) {
    console.log(
      `idle repair round at ${label}: ${r.idle.cpuMs.toFixed(0)} ms CPU, ${Math.round(r.idle.bytes).toLocaleString()} bytes written`,
    );
  }
  const grow = big.idle.bytes / Math.max(1, small.idle.bytes);
  console.log(
    `idle round bytes, full / tenth size: ${grow.toFixed(2)}× ${grow < 2 ? '(flat: target met)' : '(grows: target MISSED)'}`,
  );
  big.nodes.rss.forEach((mib, i) => {
    console.log(
      `node ${i + 1} peak RSS (VmHWM): ${mib.toFixed(0)} MiB ${mib < 200 ? '(< 200 MiB: met)' : '(target 200 MiB MISSED)'}`,
    );
  });
} finally {
  await rm(root, { recursive: true, force: true });
}

function target(ms, limit) {
  return ms < limit ? `(< ${limit} ms: met)` : `(target ${limit} MISSED)`;
}
