// Cluster benchmark: 3 nodes (child processes) on loopback behind their HTTP APIs; put and get
// of 1 GiB and of 10,000 × 4 KiB files, beside crypto's seal/open rate measured in this run.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newEncryptionKey, open, seal } from '@peerstash/crypto';
import { NODE_FLAGS } from '../dist/index.js';

const MIB = 1024 * 1024;
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * MIB;
const SMALL_COUNT = Number(process.env.BENCH_SMALL_COUNT ?? 10_000);
const SMALL_SIZE = 4096;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BASELINE = Number(process.env.BENCH_BASELINE_MIB ?? 512) * MIB;
const SECURE = !process.env.BENCH_PLAIN_TCP;
// The original Go design, 3 nodes, 1 GiB, same kind of machine (issue 5): MiB/s and peak RSS.
const GO = { put: 100, get: 90, rssMiB: 2.1 * 1024 };

const pool = randomBytes(MIB);
function* data(size, seed = 0) {
  for (let sent = 0, i = 0; sent < size; i++) {
    const n = Math.min(256 * 1024, size - sent);
    const piece = Buffer.from(pool.subarray((i * 256 * 1024) % MIB, ((i * 256 * 1024) % MIB) + n));
    piece.writeUInt32BE(seed >>> 0, 0);
    if (n >= 8) piece.writeUInt32BE(i, 4);
    sent += n;
    yield piece;
  }
}
const sha = async (it) => {
  const h = createHash('sha256');
  for await (const c of it) h.update(c);
  return h.digest('hex');
};
const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);
const sinkOf = () =>
  new Writable({
    highWaterMark: MIB,
    write(_c, _e, cb) {
      cb();
    },
  });

// ---- baseline: crypto seal and open in this process
async function baseline() {
  const key = newEncryptionKey();
  let t = performance.now();
  await pipeline(Readable.from(data(BASELINE)), seal(key), sinkOf());
  const sealRate = mibs(BASELINE, performance.now() - t);
  const dir = await mkdtemp(join(tmpdir(), 'peerstash-bench-sealed-'));
  const file = join(dir, 'sealed');
  await pipeline(Readable.from(data(BASELINE)), seal(key), createWriteStream(file));
  // warm the page cache so the open rate is crypto, not disk
  await pipeline(createReadStream(file), sinkOf());
  t = performance.now();
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), open(key), sinkOf());
  const openRate = mibs(BASELINE, performance.now() - t);
  await rm(dir, { recursive: true, force: true });
  return { sealRate, openRate };
}

// ---- cluster
async function startNode(cfg) {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each node there
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
        : []),
      new URL('./node.mjs', import.meta.url).pathname,
      JSON.stringify(cfg),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const info = JSON.parse(line);
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return { ...info, child, token, dataDir: cfg.dataDir };
}

async function peakRssMiB(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
}
async function cpuSeconds(pid) {
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second)
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
async function resetPeak(pid) {
  // "5" resets the peak RSS (VmHWM) to the current RSS, so each phase reports its own peak
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {});
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(node, method, key, body) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${node.api}/v1/files/${encodeURIComponent(key)}`);
    const req = request(
      url,
      { method, agent, headers: { authorization: `Bearer ${node.token}` } },
      resolve,
    );
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(Readable.from(body), req).catch(reject);
  });
}

async function json(res) {
  let text = '';
  for await (const c of res) text += c;
  if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text}`);
  return text ? JSON.parse(text) : {};
}

async function parallel(n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function main() {
  console.log(
    `peerstash fileserver bench — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`,
  );
  console.log(
    `links: ${SECURE ? 'TLS-PSK (cluster secret)' : 'plain TCP'}, R=3, 3 nodes on loopback, HTTP API client\n`,
  );
  const { sealRate, openRate } = await baseline();
  console.log(
    `baseline (crypto, this run): seal ${sealRate.toFixed(0)} MiB/s, open ${openRate.toFixed(0)} MiB/s\n`,
  );

  const vaultKey = randomBytes(32).toString('base64');
  const clusterSecret = SECURE ? randomBytes(32).toString('base64') : undefined;
  const dirs = await Promise.all(
    [0, 1, 2].map((i) => mkdtemp(join(tmpdir(), `peerstash-bench-n${i}-`))),
  );
  const nodes = [];
  try {
    nodes.push(await startNode({ dataDir: dirs[0], vaultKey, clusterSecret }));
    for (const d of dirs.slice(1)) {
      nodes.push(
        await startNode({ dataDir: d, vaultKey, clusterSecret, bootstrap: [nodes[0].address] }),
      );
    }
    const [a, b, c] = nodes;
    for (;;) {
      const sts = await Promise.all(
        nodes.map(async (n) => {
          const res = await new Promise((resolve, reject) =>
            request(
              `${n.api}/v1/status`,
              { agent, headers: { authorization: `Bearer ${n.token}` } },
              resolve,
            )
              .on('error', reject)
              .end(),
          );
          return json(res);
        }),
      );
      if (sts.every((s) => s.peers.length === 2)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows = [];
    const phase = async (name, bytes, count, fn) => {
      await Promise.all(nodes.map((n) => resetPeak(n.pid)));
      const selfBase = process.memoryUsage.rss();
      const cpu0 = await Promise.all(nodes.map((n) => cpuSeconds(n.pid)));
      const self0 = process.cpuUsage();
      const t = performance.now();
      await fn();
      const ms = performance.now() - t;
      const cpu = (await Promise.all(nodes.map((n) => cpuSeconds(n.pid)))).map(
        (c, i) => c - cpu0[i],
      );
      const selfCpu = process.cpuUsage(self0);
      cpu.push((selfCpu.user + selfCpu.system) / 1e6);
      const rss = await Promise.all(nodes.map((n) => peakRssMiB(n.pid)));
      rows.push({
        name,
        ms,
        bytes,
        count,
        rss,
        client: process.resourceUsage().maxRSS / 1024,
        selfBase,
      });
      const rate = bytes
        ? `${mibs(bytes, ms).toFixed(0)} MiB/s`
        : `${(count / (ms / 1000)).toFixed(0)} files/s`;
      console.log(
        `${name.padEnd(34)} ${rate.padStart(12)}   peak RSS A/B/C ${rss.map((r) => r.toFixed(0)).join('/')} MiB` +
          `   CPU s A/B/C/client ${cpu.map((c) => c.toFixed(1)).join('/')} in ${(ms / 1000).toFixed(1)} s`,
      );
    };

    const bigSha = await sha(data(BIG, 42));
    await phase('put 1 GiB (A, 2 replicas)', BIG, 1, async () => {
      const out = await json(await call(a, 'PUT', 'big', data(BIG, 42)));
      if (out.replicas !== 2) throw new Error(`expected 2 replicas, got ${out.replicas}`);
    });
    if (process.env.BENCH_DEBUG) {
      for (const n of nodes) {
        const res = await new Promise((resolve, reject) =>
          request(
            `${n.api}/metrics`,
            { agent, headers: { authorization: `Bearer ${n.token}` } },
            resolve,
          )
            .on('error', reject)
            .end(),
        );
        let text = '';
        for await (const ch of res) text += ch;
        console.log(
          text
            .split('\n')
            .filter((l) => /duration_seconds_(sum|count)/.test(l))
            .join('\n'),
        );
      }
    }
    await phase('get 1 GiB (B, local replica)', BIG, 1, async () => {
      const res = await call(b, 'GET', 'big');
      if ((await sha(res)) !== bigSha) throw new Error('get returned wrong bytes');
    });
    await json(await call(c, 'DELETE', 'big'));
    await phase('get 1 GiB (C, fetched from a peer)', BIG, 1, async () => {
      const res = await call(c, 'GET', 'big');
      if ((await sha(res)) !== bigSha) throw new Error('get returned wrong bytes');
    });
    const small = (i) => Buffer.from([...data(SMALL_SIZE, i)][0]);
    await phase(`put ${SMALL_COUNT} × 4 KiB (A)`, 0, SMALL_COUNT, () =>
      parallel(SMALL_COUNT, async (i) => {
        await json(await call(a, 'PUT', `small/${i}`, small(i)));
      }),
    );
    await phase(`get ${SMALL_COUNT} × 4 KiB (B)`, 0, SMALL_COUNT, () =>
      parallel(SMALL_COUNT, async (i) => {
        const res = await call(b, 'GET', `small/${i}`);
        const got = Buffer.concat(await res.toArray());
        if (res.statusCode !== 200 || !got.equals(small(i))) throw new Error(`small/${i} wrong`);
      }),
    );

    const put = rows[0];
    const get = rows[1];
    const putRate = mibs(put.bytes, put.ms);
    const getRate = mibs(get.bytes, get.ms);
    const peak = Math.max(...rows.flatMap((r) => r.rss));
    console.log('\nratios (same run):');
    console.log(`  put 1 GiB / crypto seal   ${(putRate / sealRate).toFixed(2)}  (target ≥ 0.40)`);
    console.log(`  get 1 GiB / crypto open   ${(getRate / openRate).toFixed(2)}  (target ≥ 0.40)`);
    console.log(
      `  put vs Go reference (${GO.put} MiB/s)   ${(putRate / GO.put).toFixed(2)}×  (target ≥ 3)`,
    );
    console.log(
      `  get vs Go reference (${GO.get} MiB/s)   ${(getRate / GO.get).toFixed(2)}×  (target ≥ 3)`,
    );
    console.log(
      `  peak RSS of any node ${peak.toFixed(0)} MiB (target < 200; Go reference ${GO.rssMiB} MiB)`,
    );
    console.log(
      `  bench client peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
  } finally {
    agent.destroy();
    await Promise.all(
      nodes.map(async (n) => {
        // a node that already exited never emits 'exit' again: waiting for it would leave the
        // top-level await unsettled (exit status 13)
        if (n.child.exitCode !== null || n.child.signalCode !== null) return;
        const exited = once(n.child, 'exit');
        n.child.kill('SIGTERM');
        await exited;
      }),
    );
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

await main();
