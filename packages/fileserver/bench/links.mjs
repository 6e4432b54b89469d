// Links bench: 3 and 5 nodes, each in its own network namespace, every uplink shaped with tbf
// (400 Mbit/s by default); R = 3 copies (the writer's and 2 replica peers). A put from A, then
// gets of it: from a local copy, from two holders and from one holder, every get checked by
// SHA-256. Rates are given as ratios to the raw TCP rate of one shaped uplink measured in the
// same run (and of two uplinks into one node, the most a two-holder get can reach). Per phase:
// MiB/s, CPU-s per GiB per node, peak RSS per node and MiB each uplink sent. Ends with one JSON
// line. Needs root (else prints SKIPPED). BENCH_LINKS_MIB (1024), BENCH_LINKS_NODES ("3,5"),
// BENCH_LINKS_RATE ("400mbit"), BENCH_LINKS_MODE (the nodes' replicationMode: "auto", which
// chains R = 3; "chain"; "fanout").
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE_FLAGS } from '../dist/index.js';
import { buildNet, inNs, txBytes } from './links-net.mjs';
import { generated } from './putget-data.mjs';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const SIZE = Number(process.env.BENCH_LINKS_MIB ?? 1024) * MIB;
const COUNTS = (process.env.BENCH_LINKS_NODES ?? '3,5').split(',').filter(Boolean).map(Number);
const RATE = process.env.BENCH_LINKS_RATE ?? '400mbit';
const MODE = process.env.BENCH_LINKS_MODE ?? 'auto';
const PROBE_BYTES = Math.min(SIZE, 128 * MIB);
const FANOUT_CEILING = 0.5; // R = 3 by fan-out: the writer's uplink carries two replicas
const here = (f) => new URL(f, import.meta.url).pathname;
const children = new Set();
const roots = new Set();
// on an interrupt too (links-net.mjs exits on SIGINT/SIGTERM): no node left, no data dir
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Spawns `argv` in namespace `ns`; the child is killed if the bench exits first. */
function spawnIn(ns, argv, stdio) {
  const [cmd, args] = inNs(ns, argv);
  const child = spawn(cmd, args, { stdio });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const firstLine = (child, what) =>
  new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.once('exit', (code) => reject(new Error(`${what} exited ${code} before it answered`)));
    lines.once('line', (line) => resolve([JSON.parse(line), lines]));
  });

/** Plain TCP from each of `from` to `to` at once: the receiver's bytes over its time, MiB/s. */
async function probe(net, to, from) {
  const script = here('./links-probe.mjs');
  const recv = spawnIn(
    net.spaces[to],
    [process.execPath, script, 'recv', net.ips[to], String(from.length)],
    ['ignore', 'pipe', 'inherit'],
  );
  const closed = once(recv, 'close'); // after exit and its stdout's end: every line is in
  const [{ port }, lines] = await firstLine(recv, 'link probe');
  const results = [];
  lines.on('line', (line) => results.push(JSON.parse(line)));
  const senders = from.map((i) => {
    const argv = [process.execPath, script, 'send', net.ips[to], String(port), String(PROBE_BYTES)];
    return once(spawnIn(net.spaces[i], argv, ['ignore', 'inherit', 'inherit']), 'exit');
  });
  for (const [code] of await Promise.all(senders)) {
    if (code !== 0) throw new Error(`link probe sender exited ${code}`);
  }
  await closed;
  if (!results[0]) throw new Error('link probe receiver gave no result');
  return mibs(results[0].bytes, results[0].ms);
}

async function startNode(ns, cfg) {
  const child = spawnIn(
    ns,
    [process.execPath, ...NODE_FLAGS, here('./links-node.mjs'), JSON.stringify(cfg)],
    ['ignore', 'pipe', 'inherit', 'ipc'],
  );
  const [info] = await firstLine(child, `node in ${ns}`);
  const node = { child, ns, replies: new Map(), next: 0, ...info };
  child.on('message', (m) => node.replies.get(m.id)?.(m));
  return node;
}

function ipc(node, msg) {
  const id = node.next++;
  return new Promise((resolve, reject) => {
    node.replies.set(id, (m) => {
      node.replies.delete(id);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    node.child.send({ ...msg, id });
  });
}

async function stopNode(n) {
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = once(n.child, 'exit');
  n.child.kill('SIGTERM');
  await exited;
}

async function procCpu(pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const peakRssMiB = async (pid) =>
  Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const resetPeak = (pid) => writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {});

async function measure(nodes, spaces, fn) {
  await Promise.all(nodes.map((n) => resetPeak(n.pid)));
  const cpu0 = await Promise.all(nodes.map((n) => procCpu(n.pid)));
  const tx0 = txBytes(spaces);
  const t = performance.now();
  const out = await fn();
  const ms = performance.now() - t;
  const load = loadavg()[0]; // the machine is shared: what the nodes competed with
  const cpu = (await Promise.all(nodes.map((n) => procCpu(n.pid)))).map((x, i) => x - cpu0[i]);
  const sent = txBytes(spaces).map((x, i) => (x - tx0[i]) / MIB);
  const rss = await Promise.all(nodes.map((n) => peakRssMiB(n.pid)));
  return { ms, cpu, sent, rss, load, out };
}

async function cluster(count, netIndex, rows) {
  const tag = `psl${process.pid % 1000}${count}`;
  const net = buildNet({ tag, net: `10.202.${(process.pid + netIndex) % 250}`, count, rate: RATE });
  const root = await mkdtemp(join(tmpdir(), 'peerstash-links-'));
  roots.add(root);
  const nodes = [];
  try {
    const link = await probe(net, 0, [1]);
    const twoLinks = await probe(net, 0, [1, 2]);
    console.log(
      `\n${count} nodes (${net.shaping}): raw TCP, one uplink ${link.toFixed(1)} MiB/s, ` +
        `two uplinks into one node ${twoLinks.toFixed(1)} MiB/s (${(twoLinks / link).toFixed(2)}×)`,
    );
    const vaultKey = randomBytes(32).toString('base64');
    const clusterSecret = randomBytes(32).toString('base64');
    for (const [i, ns] of net.spaces.entries()) {
      const cfg = {
        dataDir: join(root, `n${i}`),
        listen: `${net.ips[i]}:7100`,
        replicaPeers: 2,
        replicationMode: MODE,
        vaultKey,
        clusterSecret,
      };
      if (i > 0) cfg.bootstrap = [`${net.ips[0]}:7100`];
      nodes.push(await startNode(ns, cfg));
    }
    for (let t = Date.now(); ; await sleep(200)) {
      const peers = await Promise.all(
        nodes.map(async (n) => (await ipc(n, { op: 'peers' })).peers),
      );
      if (peers.every((p) => p === count - 1)) break;
      if (Date.now() - t > 60_000) throw new Error(`mesh not formed: peers ${peers.join('/')}`);
    }
    const name = (n) => String.fromCharCode(65 + nodes.indexOf(n));
    const byId = (id) => nodes.find((n) => n.nodeId === id);
    const want = createHash('sha256');
    for (const c of generated(SIZE, 7)) want.update(c);
    const sha = want.digest('hex');
    const key = 'links-1';
    const [a] = nodes;
    // who served a get: the uplinks that carried a tenth of the file or more
    const served = (m) =>
      `served by ${
        nodes
          .filter((_, i) => m.sent[i] * MIB >= SIZE / 10)
          .map(name)
          .join(',') || 'none'
      }`;
    const rec = (op, m, note = '') => {
      const r = {
        count,
        op,
        rate: mibs(SIZE, m.ms),
        link,
        twoLinks,
        ...m,
        note,
        names: nodes.map(name),
      };
      rows.push(r);
      printRow(r);
      return r;
    };

    const put = await measure(nodes, net.spaces, () =>
      ipc(a, { op: 'store', key, size: SIZE, seed: 7 }),
    );
    if (put.out.replicas !== 2)
      throw new Error(`put: expected 2 replicas, got ${put.out.replicas}`);
    // the copies as the cluster reports them, checked before each get so its label is true
    const holdersNow = async (want) => {
      const got = (await ipc(a, { op: 'holders', key })).holders.map(byId).filter(Boolean);
      if (!got.includes(a) && (await ipc(a, { op: 'has', key })).has) got.unshift(a);
      if (want && (got.length !== want.length || want.some((n) => !got.includes(n)))) {
        throw new Error(`copies on ${got.map(name)}, expected ${want.map(name)}`);
      }
      return got;
    };
    const holders = await holdersNow();
    if (holders.length !== 3 || !holders.includes(a)) {
      throw new Error(`put: copies on ${holders.map(name)}, expected A and two more`);
    }
    const others = holders.filter((n) => n !== a);
    rec(
      'put (A, R = 3)',
      put,
      `copies on ${holders.map(name).join(',')}; ${MODE}; fan-out ceiling ${FANOUT_CEILING}`,
    );

    const get = async (n, what) => {
      const m = await measure(nodes, net.spaces, () => ipc(n, { op: 'get', key }));
      if (m.out.sha !== sha) throw new Error(`${what} at ${name(n)}: wrong bytes`);
      return m;
    };
    rec('get, local copy', await get(others[0], 'local get'), `at ${name(others[0])} (no link)`);

    // the getter holds no copy: a node outside the placement, or (3 nodes) the third holder
    const getter = nodes.find((n) => !holders.includes(n)) ?? others[1];
    await ipc(others[1], { op: 'drop', key }); // two holders left: A and others[0]
    await holdersNow([a, others[0]]);
    const two = await get(getter, 'two-holder get');
    rec(
      'get, two holders',
      two,
      `at ${name(getter)}, holders ${[a, others[0]].map(name).join(',')}; ${served(two)}`,
    );

    await ipc(getter, { op: 'drop', key }); // the get above kept a copy
    await ipc(others[0], { op: 'drop', key });
    await holdersNow([a]);
    const one = await get(getter, 'one-holder get');
    rec('get, one holder', one, `at ${name(getter)}, holder A; ${served(one)}`);
    await ipc(a, { op: 'drop', key });
  } finally {
    await Promise.all(nodes.map(stopNode));
    net.destroy();
    await rm(root, { recursive: true, force: true });
    roots.delete(root);
  }
}

function printRow(r) {
  const list = (xs, d = 0) => xs.map((v) => v.toFixed(d)).join('/');
  const gib = SIZE / GIB;
  console.log(
    `${r.op.padEnd(18)} ${`${r.rate.toFixed(1)} MiB/s`.padStart(12)} ${`${(r.rate / r.link).toFixed(2)}× link`.padStart(11)}` +
      `  CPU-s/GiB ${(r.cpu.reduce((s, v) => s + v, 0) / gib).toFixed(1)}` +
      ` (${r.names.join('/')} ${list(
        r.cpu.map((v) => v / gib),
        1,
      )})` +
      `  busiest node ${((100 * Math.max(...r.cpu)) / (r.ms / 1000)).toFixed(0)}% of a core` +
      `  peak RSS ${list(r.rss)} MiB  sent ${list(r.sent)} MiB  load ${r.load.toFixed(1)}  ${r.note}`,
  );
}

async function main() {
  if (process.getuid?.() !== 0) {
    // part of `pnpm bench`: say so plainly and let the other benches' figures stand
    console.log('SKIPPED links bench: needs root (network namespaces, tc)');
    console.log(JSON.stringify({ bench: 'links', skipped: 'not root' }));
    return;
  }
  const cpu = cpus();
  console.log(
    `peerstash links bench — ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ` +
      `${cpu.length} × ${cpu[0]?.model ?? '?'}, load ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}; ` +
      `TLS-PSK links, R = 3 (${MODE}), ${SIZE / MIB} MiB, uplinks ${RATE}`,
  );
  const rows = [];
  for (const [i, count] of COUNTS.entries()) await cluster(count, i, rows);
  const figures = (count) => {
    const at = (op) => rows.find((r) => r.count === count && r.op.startsWith(op));
    const put = at('put');
    if (!put) return undefined;
    const ratio = (r) => Number((r.rate / r.link).toFixed(3));
    return {
      linkMiBs: Number(put.link.toFixed(1)),
      twoLinksMiBs: Number(put.twoLinks.toFixed(1)),
      putMiBs: Number(put.rate.toFixed(1)),
      putRatio: ratio(put),
      fanoutCeiling: FANOUT_CEILING,
      getLocalRatio: ratio(at('get, local')),
      getOneRatio: ratio(at('get, one')),
      getTwoRatio: ratio(at('get, two')),
      putCpuSecPerGiB: Number((put.cpu.reduce((s, v) => s + v, 0) / (SIZE / GIB)).toFixed(2)),
      peakRssMiB: Math.round(
        Math.max(...rows.filter((r) => r.count === count).flatMap((r) => r.rss)),
      ),
    };
  };
  const [firstCount, ...rest] = COUNTS;
  const extra = Object.fromEntries(rest.map((c) => [`nodes${c}`, figures(c)]));
  console.log(
    `\nload after: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    JSON.stringify({
      bench: 'links',
      mode: MODE,
      nodes: firstCount,
      mib: SIZE / MIB,
      ...figures(firstCount),
      ...extra,
    }),
  );
}

await main();
