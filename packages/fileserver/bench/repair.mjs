// Repair benchmark: 5 nodes (child processes) hold 10,000 files at R = 3, put through their HTTP
// API as a client would; one is killed, and the time and bytes until every file again has 3
// replicas on live nodes are measured beside a baseline from the same run (cas-store writing the
// lost replicas locally). Every wait has a deadline: a stuck run fails with the step and exit 1.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CasStore, casPathTransform } from '@peerstash/cas-store';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import { NODE_FLAGS, placeReplicas } from '../dist/index.js';

const FILES = Number(process.env.BENCH_REPAIR_FILES ?? 10_000);
const SIZE = Number(process.env.BENCH_REPAIR_SIZE ?? 4096);
const NODES = 5;
const R = 3;
const PUTS_IN_FLIGHT = 16;
const WRITERS = 32;
/** The whole run (default: 5 min plus 90 ms a file); past it the nodes are killed, exit 1. */
const DEADLINE_S = Number(process.env.BENCH_REPAIR_DEADLINE_S ?? 300 + FILES * 0.09);
/** A wait whose count of files left does not drop for this long fails (4 default rounds). */
const STALL_S = Number(process.env.BENCH_REPAIR_STALL_S ?? 120);

const secret = randomBytes(32).toString('base64');
const vaultKey = randomBytes(32);
const ns = deriveNamespace(vaultKey);
const pool = randomBytes(1024 * 1024);
const blob = (i, size = SIZE) => {
  const off = (i * 131) % (pool.length - size);
  const b = Buffer.from(pool.subarray(off, off + size));
  b.writeUInt32BE(i, 0);
  return b;
};
const keyOf = (i) => `bench/${String(i).padStart(6, '0')}.bin`;
const ids = Array.from({ length: FILES }, (_, i) => deriveFileId(vaultKey, keyOf(i)));

let step = 'start';
let root;
const children = new Set();
const running = (child) => child.exitCode === null && child.signalCode === null;

function fail(message, at = step) {
  console.error(`repair bench FAILED at "${at}": ${message}`);
  for (const child of children) if (running(child)) child.kill('SIGKILL');
  if (root) rmSync(root, { recursive: true, force: true });
  process.exit(1);
}
// the last resort: whatever is stuck (a wait, a stop, a request), the run ends
setTimeout(() => fail(`deadline of ${DEADLINE_S.toFixed(0)} s passed`), DEADLINE_S * 1000).unref();

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
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  const [line] = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    once(child, 'exit').then(([code, sig]) => {
      throw new Error(`a node exited at start (${sig ?? `exit ${code}`})`);
    }),
  ]);
  const info = JSON.parse(line);
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return { ...info, child, token, dataDir: cfg.dataDir };
}

async function stopNode(n) {
  // an exited node emits no second 'exit' (an unsettled top-level await exits 13)
  if (!running(n.child)) return;
  const exited = once(n.child, 'exit');
  n.child.kill('SIGTERM');
  await exited;
}

async function status(n) {
  const res = await fetch(`${n.api}/v1/status`, {
    headers: { authorization: `Bearer ${n.token}` },
    signal: AbortSignal.timeout(30_000),
  });
  return res.json();
}

async function put(n, i) {
  const res = await fetch(`${n.api}/v1/files/${encodeURIComponent(keyOf(i))}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${n.token}` },
    body: blob(i),
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`put of ${keyOf(i)}: HTTP ${res.status} ${body}`);
}

async function peakRssMiB(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
}

// "5" resets the peak RSS (VmHWM) to the current RSS: the repair's peak, not the put's
const resetPeak = (pid) => writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {});

function metaPath(dir, i) {
  const { pathName, filename } = casPathTransform(ids[i]);
  return join(dir, 'blobs', ns, pathName, `${filename}.meta.json`);
}
const holdsOnDisk = (dir, i) => existsSync(metaPath(dir, i));

/** What the nodes say they hold, for a failure message. */
async function picture(ns_) {
  const s = await Promise.all(ns_.map((n) => status(n).catch((e) => ({ error: e.message }))));
  return s
    .map((x, k) =>
      x.error
        ? `node ${k}: ${x.error}`
        : `node ${k}: keysHeld ${x.keysHeld}, catalog ${x.catalog?.files}, under-replicated ${x.underReplicated}, rounds ${x.repairRounds}`,
    )
    .join('; ');
}

/**
 * Polls `left()` (what is still missing) until it is 0. Fails when it has not dropped for
 * STALL_S, with `detail()` in the message.
 */
async function waitUntil(what, left, detail) {
  step = what;
  let best = Number.POSITIVE_INFINITY;
  let since = Date.now();
  for (;;) {
    const n = await left();
    if (n === 0) return;
    if (n < best) {
      best = n;
      since = Date.now();
    } else if (Date.now() - since > STALL_S * 1000) {
      throw new Error(`no progress for ${STALL_S} s, ${n} still to go; ${await detail()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

async function main() {
  console.log(
    `peerstash repair bench — ${new Date().toISOString().slice(0, 16)} UTC, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${load()}`,
  );
  console.log(
    `${NODES} nodes, R = ${R}, ${FILES.toLocaleString('en')} files × ${SIZE} B put through the HTTP API`,
  );
  root = await mkdtemp(join(tmpdir(), 'peerstash-repair-bench-'));
  const dirs = Array.from({ length: NODES }, (_, i) => join(root, `n${i}`));
  const nodes = [];
  try {
    step = 'start nodes';
    for (const dir of dirs) {
      const cfg = { dataDir: dir, clusterSecret: secret, vaultKey: vaultKey.toString('base64') };
      nodes.push(await startNode({ ...cfg, bootstrap: nodes.length ? [nodes[0].address] : [] }));
    }
    const nodeIds = nodes.map((n) => n.nodeId);
    const all = () => Promise.all(nodes.map(status));
    await waitUntil(
      'mesh',
      async () => (await all()).reduce((a, s) => a + (NODES - 1 - s.peers.length), 0),
      () => picture(nodes),
    );

    // the files are put as a client would: round robin over the nodes, 16 in flight
    step = 'put';
    let t = performance.now();
    await parallel(FILES, PUTS_IN_FLIGHT, (i) => put(nodes[i % NODES], i));
    const putS = (performance.now() - t) / 1000;
    console.log(
      `put ${FILES.toLocaleString('en')} files in ${putS.toFixed(1)} s (${(FILES / putS).toFixed(0)} files/s), load ${load()}`,
    );
    // a put leaves the writer's copy too: repair hands off the surplus, then each file is on
    // exactly its placement, and the nodes count what they hold
    const placement = ids.map((id) => placeReplicas(id, nodeIds, R).map((p) => nodeIds.indexOf(p)));
    const unsettled = (i) => dirs.some((d, k) => holdsOnDisk(d, i) !== placement[i].includes(k));
    let pending = ids.map((_, i) => i);
    t = performance.now();
    await waitUntil(
      'placement settled',
      () => {
        pending = pending.filter(unsettled);
        return pending.length;
      },
      () => picture(nodes),
    );
    await waitUntil(
      'keysHeld counted',
      async () => Math.abs(FILES * R - (await all()).reduce((a, s) => a + s.keysHeld, 0)),
      () => picture(nodes),
    );
    console.log(`placement settled ${((performance.now() - t) / 1000).toFixed(1)} s after the put`);

    // a round with nothing to repair: what the summaries cost when the cluster is in sync (a
    // round already running when counting starts does not count)
    const base = await all();
    const need = base.map((s) => s.repairRounds + (s.repairInProgress ? 2 : 1));
    await waitUntil(
      'a quiet round',
      async () =>
        (await all()).filter((x, i) => x.repairRounds < need[i] || x.repairInProgress).length,
      () => picture(nodes),
    );
    const quiet = await all();
    const quietSummary = quiet.reduce(
      (a, s, i) => a + s.repairSummaryBytes - base[i].repairSummaryBytes,
      0,
    );
    const quietPushed = quiet.reduce(
      (a, s, i) => a + s.repairBytesSent - base[i].repairBytesSent,
      0,
    );
    // one round of full lists instead: every node sends each peer all it holds
    const LIST_ENTRY = 142; // CBOR of [id, digest, putAt]
    const fullRound = (sts) =>
      sts.reduce((a, s) => a + s.keysHeld * LIST_ENTRY * (sts.length - 1), 0);

    // lose one node for good
    const victim = nodes[NODES - 1];
    const live = nodes.slice(0, NODES - 1);
    const liveDirs = dirs.slice(0, NODES - 1);
    const lost = [];
    let lostBytes = 0;
    for (let i = 0; i < FILES; i++) {
      if (!holdsOnDisk(victim.dataDir, i)) continue;
      lost.push(i);
      lostBytes += JSON.parse(readFileSync(metaPath(victim.dataDir, i), 'utf8')).size;
    }
    const before = await Promise.all(live.map(status));
    const putRss = await Promise.all(nodes.map((n) => peakRssMiB(n.pid)));
    await Promise.all(live.map((n) => resetPeak(n.pid)));
    step = 'kill';
    victim.child.kill('SIGKILL');
    await once(victim.child, 'exit');
    t = performance.now();
    const short = (i) => liveDirs.filter((d) => holdsOnDisk(d, i)).length < R;
    pending = lost;
    await waitUntil(
      'R replicas on live nodes',
      () => {
        pending = pending.filter(short);
        return pending.length;
      },
      () => picture(live),
    );
    const restoreS = (performance.now() - t) / 1000;
    const loadAfter = load();
    await waitUntil(
      'rounds settle',
      async () => (await Promise.all(live.map(status))).filter((s) => s.repairInProgress).length,
      () => picture(live),
    );
    const after = await Promise.all(live.map(status));
    const pushed = after.reduce((a, s, i) => a + s.repairBytesSent - before[i].repairBytesSent, 0);
    const summary = after.reduce(
      (a, s, i) => a + s.repairSummaryBytes - before[i].repairSummaryBytes,
      0,
    );
    const rss = await Promise.all(live.map((n) => peakRssMiB(n.pid)));
    for (let i = 0; i < FILES; i++) if (short(i)) throw new Error(`file ${i} under-replicated`);

    // baseline: this process writing as many bytes as were lost into a fresh cas-store (no network)
    step = 'baseline';
    const size = Math.round(lostBytes / lost.length);
    const baseStore = new CasStore({ root: join(root, 'baseline') });
    await baseStore.open();
    t = performance.now();
    await parallel(lost.length, WRITERS, async (k) => {
      await baseStore.write(ns, ids[lost[k]], [blob(lost[k], size)]);
    });
    const baselineS = (performance.now() - t) / 1000;

    const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
    const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    console.log(
      `in sync: a round on every node exchanged ${kib(quietSummary)} of summaries in all (one round of full lists: ${mib(fullRound(quiet))}), pushed ${quietPushed} B`,
    );
    console.log(
      `lost ${lost.length.toLocaleString('en')} replicas (${mib(lostBytes)} sealed) with the killed node; load at R = 3 again ${loadAfter}`,
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
    const list = (a) => a.map((r) => r.toFixed(0)).join(' / ');
    console.log(`peak RSS of the live nodes during the repair: ${list(rss)} MiB`);
    console.log(`peak RSS of the 5 nodes during the put and settling: ${list(putRss)} MiB`);
  } catch (err) {
    err.step ??= step;
    throw err;
  } finally {
    step = 'stop nodes';
    await Promise.all(nodes.map(stopNode));
    await rm(root, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  fail(err.message, err.step);
}
