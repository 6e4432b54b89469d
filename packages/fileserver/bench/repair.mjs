// Repair benchmark: 5 storage-only nodes (child processes) hold 10,000 files at R = 3; one is
// killed, and the time and bytes until every file again has 3 replicas on live nodes are measured
// beside a baseline from the same run (cas-store writing the lost replicas locally).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CasStore, casPathTransform } from '@peerstash/cas-store';
import { NODE_FLAGS, placeReplicas } from '../dist/index.js';

const FILES = Number(process.env.BENCH_REPAIR_FILES ?? 10_000);
const SIZE = Number(process.env.BENCH_REPAIR_SIZE ?? 4096);
const NODES = 5;
const R = 3;
const WRITERS = 32;

const secret = randomBytes(32).toString('base64');
const ns = randomBytes(32).toString('hex');
const pool = randomBytes(1024 * 1024);
const blob = (i) => {
  const b = Buffer.from(
    pool.subarray((i * 131) % (pool.length - SIZE), ((i * 131) % (pool.length - SIZE)) + SIZE),
  );
  b.writeUInt32BE(i, 0);
  return b;
};
const idOf = (i) => createHash('sha256').update(`bench-file-${i}`).digest('hex');

async function parallel(n, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function startNode(cfg) {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, new URL('./repair-node.mjs', import.meta.url).pathname, JSON.stringify(cfg)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const info = JSON.parse(line);
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return { ...info, child, token, dataDir: cfg.dataDir };
}

async function stopNode(n) {
  // an exited node emits no second 'exit' (an unsettled top-level await exits 13)
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = once(n.child, 'exit');
  n.child.kill('SIGTERM');
  await exited;
}

async function status(n) {
  const res = await fetch(`${n.api}/v1/status`, {
    headers: { authorization: `Bearer ${n.token}` },
  });
  return res.json();
}

async function peakRssMiB(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
}

function holdsOnDisk(dir, id) {
  const { pathName, filename } = casPathTransform(id);
  return existsSync(join(dir, 'blobs', ns, pathName, `${filename}.meta.json`));
}

const waitUntil = async (what, check, ms = 600_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

async function main() {
  console.log(
    `peerstash repair bench — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`,
  );
  console.log(
    `${NODES} storage-only nodes, R = ${R}, ${FILES.toLocaleString('en')} files × ${SIZE} B`,
  );
  const root = await mkdtemp(join(tmpdir(), 'peerstash-repair-bench-'));
  const dirs = Array.from({ length: NODES }, (_, i) => join(root, `n${i}`));
  let nodes = [];
  try {
    // node ids come from a first start
    const ids = [];
    for (const dir of dirs) {
      const n = await startNode({ dataDir: dir, clusterSecret: secret });
      ids.push(n.nodeId);
      await stopNode(n);
    }
    // place the files straight into the stores, as a settled cluster would hold them
    let t = performance.now();
    const stores = await Promise.all(
      dirs.map(async (d) => {
        const s = new CasStore({ root: join(d, 'blobs') });
        await s.open();
        return s;
      }),
    );
    const putAt = Date.now();
    await parallel(FILES, WRITERS, async (i) => {
      const id = idOf(i);
      for (const nodeId of placeReplicas(id, ids, R)) {
        await stores[ids.indexOf(nodeId)].write(ns, id, [blob(i)], { extra: { putAt } });
      }
    });
    console.log(`placed ${FILES * R} replicas in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    nodes = [];
    for (const dir of dirs) {
      nodes.push(
        await startNode({
          dataDir: dir,
          clusterSecret: secret,
          bootstrap: nodes.length ? [nodes[0].address] : [],
        }),
      );
    }
    await waitUntil('mesh', async () =>
      (await Promise.all(nodes.map(status))).every((s) => s.peers.length === NODES - 1),
    );
    // a round with nothing to repair: what the summaries cost when the cluster is in sync
    const base = await Promise.all(nodes.map(status));
    await waitUntil('a quiet round', async () => {
      const s = await Promise.all(nodes.map(status));
      return s.every((x, i) => x.repairRounds >= base[i].repairRounds + 1 && !x.repairInProgress);
    });
    const quiet = await Promise.all(nodes.map(status));
    const quietSummary = quiet.reduce((a, s) => a + s.repairSummaryBytes, 0);
    const quietPushed = quiet.reduce((a, s) => a + s.repairBytesSent, 0);
    // one round of full lists instead: every node sends each peer all it holds
    const LIST_ENTRY = 142; // CBOR of [id, digest, putAt]
    const fullRound = (sts) =>
      sts.reduce((a, s) => a + s.keysHeld * LIST_ENTRY * (sts.length - 1), 0);

    // lose the node holding the most
    const victim = nodes[NODES - 1];
    const live = nodes.slice(0, NODES - 1);
    const liveDirs = dirs.slice(0, NODES - 1);
    const lost = [];
    for (let i = 0; i < FILES; i++) if (holdsOnDisk(victim.dataDir, idOf(i))) lost.push(i);
    const before = await Promise.all(live.map(status));
    victim.child.kill('SIGKILL');
    await once(victim.child, 'exit');
    t = performance.now();
    const short = (i) => liveDirs.filter((d) => holdsOnDisk(d, idOf(i))).length < R;
    let pending = lost;
    await waitUntil('R replicas on live nodes', () => {
      pending = pending.filter(short);
      return pending.length === 0;
    });
    const restoreS = (performance.now() - t) / 1000;
    await waitUntil('rounds settle', async () =>
      (await Promise.all(live.map(status))).every((s) => !s.repairInProgress),
    );
    const after = await Promise.all(live.map(status));
    const pushed = after.reduce((a, s, i) => a + s.repairBytesSent - before[i].repairBytesSent, 0);
    const summary = after.reduce(
      (a, s, i) => a + s.repairSummaryBytes - before[i].repairSummaryBytes,
      0,
    );
    const rss = await Promise.all(live.map((n) => peakRssMiB(n.pid)));
    for (let i = 0; i < FILES; i++) if (short(i)) throw new Error(`file ${i} under-replicated`);

    // baseline: this process writing the lost replicas into a fresh cas-store (no network)
    const baseStore = new CasStore({ root: join(root, 'baseline') });
    await baseStore.open();
    t = performance.now();
    await parallel(lost.length, WRITERS, async (k) => {
      await baseStore.write(ns, idOf(lost[k]), [blob(lost[k])]);
    });
    const baselineS = (performance.now() - t) / 1000;

    const lostBytes = lost.length * SIZE;
    const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
    const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    console.log(
      `in sync: a round on every node exchanged ${kib(quietSummary)} of summaries (one round of full lists: ${mib(fullRound(quiet))}), pushed ${quietPushed} B`,
    );
    console.log(
      `lost ${lost.length.toLocaleString('en')} replicas (${mib(lostBytes)}) with the killed node`,
    );
    console.log(`| measure | repair | baseline (same run) | ratio |`);
    console.log(`| --- | ---: | --- | ---: |`);
    console.log(
      `| time to R = 3 again | ${restoreS.toFixed(1)} s (${(lost.length / restoreS).toFixed(0)} replicas/s) | cas-store writing the lost replicas locally: ${baselineS.toFixed(1)} s | ${(restoreS / baselineS).toFixed(2)} × |`,
    );
    console.log(
      `| blob bytes pushed | ${mib(pushed)} | bytes lost: ${mib(lostBytes)} | ${(pushed / lostBytes).toFixed(2)} × |`,
    );
    console.log(
      `| summary + query bytes | ${kib(summary)} | one round of full lists among the live nodes: ${mib(fullRound(after))} | ${(summary / fullRound(after)).toFixed(3)} × |`,
    );
    console.log(`peak RSS of the live nodes: ${rss.map((r) => r.toFixed(0)).join(' / ')} MiB`);
  } finally {
    // a killed child has a signalCode and no exitCode: waiting for its 'exit' again never ends
    const running = (n) => n.child.exitCode === null && n.child.signalCode === null;
    await Promise.all(nodes.filter(running).map(stopNode));
    await rm(root, { recursive: true, force: true });
  }
}

await main();
