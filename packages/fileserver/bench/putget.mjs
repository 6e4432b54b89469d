// Put/get bench: 3 nodes (child processes) on loopback, TLS-PSK links, R = 3. A 1 GiB file is
// put and got through the `peerstash` CLI (CLI → HTTP API), through curl, and in-process
// (store()/get() inside the writer's node, no HTTP), every get checked by SHA-256; beside
// openssl's rates measured in this run and the crypto a replicated put cannot avoid. Then
// 2,000 and 20,000 files of 4 KiB through the HTTP API. Per phase: MiB/s (or files/s), the
// nodes' CPU-s per GiB (utime + stime from /proc), the client's (the CLI or curl process), full
// GCs on the writer (--trace-gc) and each node's peak RSS. Ends with one JSON line. BENCH_PUTGET_MIB, BENCH_ROUNDS (medians),
// BENCH_SMALL ("2000,20000"), BENCH_SYSTEMS ("cli,curl,inproc"), BENCH_CPU_PROF=<dir>,
// BENCH_GC_LOG=<file>, BENCH_NODE_FLAGS (more flags for the node processes), BENCH_HEAP_FLAGS=0,
// BENCH_ONE_HOLDER=0 (skip the get from one holder, the baseline of the get from two),
// BENCH_REPLICATION_MODE (the nodes' replicationMode: auto, chain, fanout), BENCH_CRYPTO_THREADS
// (the nodes' cryptoThreads), BENCH_WRITER_CPUS (the writer A runs under `taskset -c <cpus>`).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NODE_FLAGS as HEAP_FLAGS, NODE_ENV_VARS } from '../dist/index.js';
import { generated } from './putget-data.mjs';
import { cryptoLimit } from './putget-openssl.mjs';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const SIZE = Number(process.env.BENCH_PUTGET_MIB ?? 1024) * MIB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const SMALL = (process.env.BENCH_SMALL ?? '2000,20000').split(',').filter(Boolean).map(Number);
// BENCH_SYSTEMS=none (or empty): only the small-file rows (no 1 GiB file, no openssl rates)
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'cli,curl,inproc')
  .split(',')
  .filter((s) => s && s !== 'none');
const CONCURRENCY = 16;
// also a get with no local copy from one holder only (C restarted with getRangeBytes 0)
const ONE_HOLDER = process.env.BENCH_ONE_HOLDER !== '0';
const CLI = new URL('../../../apps/cli/bin/peerstash.js', import.meta.url).pathname;
const NODE_FLAGS = [
  // the flags every node starts with (BENCH_HEAP_FLAGS=0: without them, to compare)
  ...(process.env.BENCH_HEAP_FLAGS === '0' ? [] : HEAP_FLAGS),
  '--trace-gc',
  ...(process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
    : []),
  ...(process.env.BENCH_PERF ? ['--perf-basic-prof'] : []),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];
// the CLI runs as its bin's shebang starts it (with the heap flags)
const CLI_FLAGS = process.env.BENCH_HEAP_FLAGS === '0' ? [] : HEAP_FLAGS;
const FULL_GC = /Mark-Compact|Mark-sweep|Mark-Sweep/;
// BENCH_GC_LOG=<file>: every node's --trace-gc lines go there too (to see why a GC ran)
const gcLog = process.env.BENCH_GC_LOG ? createWriteStream(process.env.BENCH_GC_LOG) : undefined;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);
const sha = async (it) => {
  const h = createHash('sha256');
  for await (const c of it) h.update(c);
  return h.digest('hex');
};

async function startNode(cfg) {
  const argv = [
    process.execPath,
    ...NODE_FLAGS,
    new URL('./putget-node.mjs', import.meta.url).pathname,
    JSON.stringify(cfg),
  ];
  // taskset execs node in its place, so the pid read from /proc is the node's
  if (cfg.cpus) argv.unshift('taskset', '-c', cfg.cpus);
  const child = spawn(
    argv[0],
    argv.slice(1),
    // the environment a node starts with (NODE_ENV_VARS); the bench's own environment overrides it
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...NODE_ENV_VARS, ...process.env } },
  );
  const node = { child, dataDir: cfg.dataDir, fullGcs: 0, replies: new Map(), next: 0 };
  const lines = createInterface({ input: child.stdout });
  const [info] = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node exited ${code} before it started`)));
    lines.on('line', (line) => {
      if (gcLog && line.startsWith('[')) gcLog.write(`${line}\n`);
      if (FULL_GC.test(line)) node.fullGcs++;
      else if (line.startsWith('{')) resolve([JSON.parse(line)]);
    });
  });
  child.on('message', (m) => node.replies.get(m.id)?.(m));
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return Object.assign(node, info, { token });
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
  // a child that already exited has its exitCode or signalCode set: waiting for 'exit' would hang
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = once(n.child, 'exit');
  n.child.kill('SIGTERM');
  await exited;
}

async function procCpu(pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
// CPU of the exited children waited for (cutime + cstime): the CLI or curl processes of a phase
async function clientCpu() {
  const f = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}
// the kernel's part (stime) alone: file creation, fsyncs, sockets
async function procSys(pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return Number(f[12]) / 100;
}
const peakRssMiB = async (pid) =>
  Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const resetPeak = (pid) => writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => {});

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function call(node, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(`${node.api}${path}`, {
      method,
      agent,
      headers: { authorization: `Bearer ${node.token}` },
    });
    req.on('response', async (res) => {
      const chunks = await res.toArray();
      const text = Buffer.concat(chunks);
      if (res.statusCode >= 300)
        reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`));
      else resolve(text);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs a program; resolves with the SHA-256 of its stdout when `hash`, else drains it. */
async function run(cmd, args, hash = false) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => {
    err += c;
  });
  const out = hash ? sha(child.stdout) : child.stdout.resume() && undefined;
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`);
  return out;
}

const url = (n, key) => `${n.api}/v1/files/${encodeURIComponent(key)}`;
const auth = (n) => `authorization: Bearer ${n.token}`;
// put: from A (2 replicas); get, local copy: B; get, no local copy: C after dropping its copy
const SYS = {
  cli: {
    put: (a, key, file) =>
      run(process.execPath, [...CLI_FLAGS, CLI, 'put', file, '--key', key, '--dir', a.dataDir]),
    get: (n, key) =>
      run(process.execPath, [...CLI_FLAGS, CLI, 'get', key, '--dir', n.dataDir], true),
  },
  curl: {
    put: (a, key, file) => run('curl', ['-sSf', '-T', file, '-H', auth(a), url(a, key)]),
    get: (n, key) => run('curl', ['-sSf', '-H', auth(n), url(n, key)], true),
  },
  inproc: {
    put: async (a, key) => {
      const out = await ipc(a, { op: 'store', key, size: SIZE, seed: 42 });
      if (out.replicas !== 2) throw new Error(`expected 2 replicas, got ${out.replicas}`);
    },
    get: async (n, key) => (await ipc(n, { op: 'get', key })).sha,
  },
};

async function main() {
  console.log(
    `peerstash put/get bench — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `3 nodes on loopback, TLS-PSK links, R = 3, ${SIZE / MIB} MiB, rounds ${ROUNDS} (medians), ` +
      `node flags: ${NODE_FLAGS.filter((f) => f !== '--trace-gc').join(' ') || 'none'}, ` +
      `cryptoThreads ${process.env.BENCH_CRYPTO_THREADS ?? 'auto'}, ` +
      `writer on cpus ${process.env.BENCH_WRITER_CPUS ?? 'any'}`,
  );
  const limit = SYSTEMS.length > 0 ? await cryptoLimit() : undefined;
  if (limit) console.log(limit.text);
  const root = await mkdtemp(join(tmpdir(), 'peerstash-putget-'));
  const nodes = [];
  try {
    const file = join(root, 'input.bin');
    if (SYSTEMS.length > 0)
      await pipeline(Readable.from(generated(SIZE, 42)), createWriteStream(file));
    const want = SYSTEMS.length > 0 ? await sha(generated(SIZE, 42)) : '';
    const vaultKey = randomBytes(32).toString('base64');
    const clusterSecret = randomBytes(32).toString('base64');
    for (let i = 0; i < 3; i++) {
      const cfg = { dataDir: join(root, `n${i}`), vaultKey, clusterSecret };
      if (i === 0 && process.env.BENCH_WRITER_CPUS) cfg.cpus = process.env.BENCH_WRITER_CPUS;
      if (i > 0) cfg.bootstrap = [nodes[0].address];
      nodes.push(await startNode(cfg));
    }
    const [a, b] = nodes;
    let c = nodes[2];
    const meshed = async () => {
      for (;;) {
        const sts = await Promise.all(
          nodes.map(async (n) => JSON.parse(await call(n, 'GET', '/v1/status'))),
        );
        if (sts.every((s) => s.peers.length === 2)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await meshed();
    // C again with other options (same data dir): to read from one holder as the baseline
    const restartC = async (over) => {
      await stopNode(c);
      c = await startNode({ dataDir: join(root, 'n2'), vaultKey, clusterSecret, ...over });
      nodes[2] = c;
      await meshed();
    };

    const measure = async (fn) => {
      await Promise.all(nodes.map((n) => resetPeak(n.pid)));
      const cpu0 = await Promise.all(nodes.map((n) => procCpu(n.pid)));
      const sys0 = await Promise.all(nodes.map((n) => procSys(n.pid)));
      const gc0 = a.fullGcs;
      const client0 = await clientCpu();
      const t = performance.now();
      await fn();
      const ms = performance.now() - t;
      const client = (await clientCpu()) - client0;
      const cpu = (await Promise.all(nodes.map((n) => procCpu(n.pid)))).map((x, i) => x - cpu0[i]);
      const sys = (await Promise.all(nodes.map((n) => procSys(n.pid)))).map((x, i) => x - sys0[i]);
      const rss = await Promise.all(nodes.map((n) => peakRssMiB(n.pid)));
      return { ms, cpu, sys, client, gcs: a.fullGcs - gc0, rss };
    };
    const rows = [];
    const row = (system, op, runs, bytes, count) => {
      const m = (f) => median(runs.map(f));
      const r = {
        system,
        op,
        rate: bytes ? m((x) => mibs(bytes, x.ms)) : m((x) => count / (x.ms / 1000)),
        unit: bytes ? 'MiB/s' : 'files/s',
        cpuPerGiB: bytes ? m((x) => x.cpu.reduce((s, v) => s + v, 0) / (bytes / GIB)) : undefined,
        cpuNodes: [0, 1, 2].map((i) => m((x) => x.cpu[i])),
        clientPerGiB: bytes ? m((x) => x.client / (bytes / GIB)) : undefined,
        sysNodes: [0, 1, 2].map((i) => m((x) => x.sys[i])),
        gcsPerGiB: bytes ? m((x) => x.gcs / (bytes / GIB)) : m((x) => x.gcs),
        rss: [0, 1, 2].map((i) => Math.max(...runs.map((x) => x.rss[i]))),
      };
      rows.push(r);
      const cpu =
        r.cpuPerGiB !== undefined
          ? `${r.cpuPerGiB.toFixed(1)} CPU-s/GiB`
          : `${r.cpuNodes.map((v) => ((v * 1000) / count).toFixed(2)).join('/')} CPU-s/1k` +
            ` (sys ${r.sysNodes.map((v) => ((v * 1000) / count).toFixed(2)).join('/')})`;
      console.log(
        `${`${system} ${op}`.padEnd(30)} ${`${r.rate.toFixed(0)} ${r.unit}`.padStart(13)} ${cpu.padStart(16)}` +
          `  CPU s A/B/C ${r.cpuNodes.map((v) => v.toFixed(1)).join('/')}` +
          (r.clientPerGiB !== undefined ? `  client ${r.clientPerGiB.toFixed(1)}/GiB` : '') +
          `  full GCs (A) ${r.gcsPerGiB.toFixed(0)}  peak RSS A/B/C ${r.rss.map((v) => v.toFixed(0)).join('/')} MiB`,
      );
    };

    for (const name of SYSTEMS) {
      const sys = SYS[name];
      const runs = { put: [], local: [], remote: [], one: [] };
      for (let k = 0; k < ROUNDS; k++) {
        const key = `big-${name}-${k}`;
        runs.put.push(await measure(() => sys.put(a, key, file)));
        runs.local.push(
          await measure(async () => {
            if ((await sys.get(b, key)) !== want) throw new Error(`${name} get (B): wrong bytes`);
          }),
        );
        await call(c, 'DELETE', `/v1/files/${encodeURIComponent(key)}`);
        runs.remote.push(
          await measure(async () => {
            if ((await sys.get(c, key)) !== want) throw new Error(`${name} get (C): wrong bytes`);
          }),
        );
        if (ONE_HOLDER) {
          // the client has every byte before C's copy commits (its fsync): wait for the copy
          for (let i = 0; ; i++) {
            const gone = await call(c, 'DELETE', `/v1/files/${encodeURIComponent(key)}`).then(
              () => true,
              (err) => (i < 100 ? false : Promise.reject(err)),
            );
            if (gone) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await restartC({ bootstrap: [a.address], getRangeBytes: 0 });
          runs.one.push(
            await measure(async () => {
              if ((await sys.get(c, key)) !== want)
                throw new Error(`${name} get (C1): wrong bytes`);
            }),
          );
          await restartC({ bootstrap: [a.address] });
        }
        await call(a, 'DELETE', `/v1/files/${encodeURIComponent(key)}?everywhere=yes`);
      }
      row(name, 'put (A, 2 replicas)', runs.put, SIZE);
      row(name, 'get (B, local copy)', runs.local, SIZE);
      row(name, 'get (C, from 2 holders)', runs.remote, SIZE);
      if (ONE_HOLDER) {
        row(name, 'get (C, from 1 holder)', runs.one, SIZE);
        const two = rows.at(-2).rate;
        console.log(`${name} get from 2 holders / from 1: ${(two / rows.at(-1).rate).toFixed(2)}×`);
      }
    }

    const smallBody = (i) => {
      const body = randomBytes(4096);
      body.writeUInt32BE(i, 0);
      return body;
    };
    for (const count of SMALL) {
      const bodies = Array.from({ length: count }, (_, i) => smallBody(i));
      const parallel = async (fn) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < count) await fn(next++);
          }),
        );
      };
      const put = await measure(() =>
        parallel((i) => call(a, 'PUT', `/v1/files/s${count}/${i}`, bodies[i])),
      );
      row('api', `put ${count} × 4 KiB (A)`, [put], 0, count);
      const get = await measure(() =>
        parallel(async (i) => {
          const got = await call(b, 'GET', `/v1/files/s${count}/${i}`);
          if (!got.equals(bodies[i])) throw new Error(`s${count}/${i}: wrong bytes`);
        }),
      );
      row('api', `get ${count} × 4 KiB (B)`, [get], 0, count);
    }

    const at = (s, op) => rows.find((r) => r.system === s && r.op.startsWith(op));
    const main = at('cli', 'put') ? 'cli' : SYSTEMS[0];
    const put = main ? at(main, 'put') : undefined;
    if (put)
      console.log(
        `\n${main} put: ${put.cpuPerGiB.toFixed(1)} CPU-s/GiB on the nodes = ${(put.cpuPerGiB / limit.cpuPerGiB).toFixed(1)}× ` +
          `the crypto limit (target ≤ 12), ${put.gcsPerGiB.toFixed(0)} full GCs/GiB on the writer (target ≤ 10)`,
      );
    const peak = Math.max(...rows.flatMap((r) => r.rss));
    console.log(`peak RSS of any node ${peak.toFixed(0)} MiB (target < 200)`);
    const small = rows.find((r) => r.op.startsWith('put') && r.unit === 'files/s');
    const smallGet = rows.find((r) => r.op.startsWith('get') && r.unit === 'files/s');
    const big = (op, f) => (put ? f(at(main, op)) : null);
    console.log(
      JSON.stringify({
        bench: 'putget',
        putMiBs: big('put', (r) => Math.round(r.rate)),
        getLocalMiBs: big('get (B', (r) => Math.round(r.rate)),
        getRemoteMiBs: big('get (C, from 2', (r) => Math.round(r.rate)),
        getOneHolderMiBs: ONE_HOLDER ? big('get (C, from 1', (r) => Math.round(r.rate)) : null,
        putCpuSecPerGiB: put ? Number(put.cpuPerGiB.toFixed(2)) : null,
        putWriterCpuSecPerGiB: put ? Number((put.cpuNodes[0] / (SIZE / GIB)).toFixed(2)) : null,
        getLocalCpuSecPerGiB: big('get (B', (r) => Number(r.cpuPerGiB.toFixed(2))),
        // the CLI's get reads the node's own copy itself: its CPU is the client's
        getLocalClientCpuSecPerGiB: big('get (B', (r) => Number(r.clientPerGiB.toFixed(2))),
        putClientCpuSecPerGiB: put ? Number(put.clientPerGiB.toFixed(2)) : null,
        cryptoLimitCpuSecPerGiB: limit ? Number(limit.cpuPerGiB.toFixed(2)) : null,
        writerFullGcsPerGiB: put ? put.gcsPerGiB : null,
        smallPutFilesPerSec: small ? Math.round(small.rate) : null,
        smallGetFilesPerSec: smallGet ? Math.round(smallGet.rate) : null,
        peakRssMiB: Math.round(peak),
      }),
    );
  } finally {
    agent.destroy();
    await Promise.all(nodes.map(stopNode));
    await rm(root, { recursive: true, force: true });
  }
}

await main();
