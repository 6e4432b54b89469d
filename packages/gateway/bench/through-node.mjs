// Gateway through a node: three real `peerstash serve` processes (R = 3), and in the same run the
// same bytes moved by the native path (`peerstash put/get`, `put -r`/`get -r`) and through node
// 0's gateways (aws s3 cp multipart up and down; restic backup/restore of a mixed tree). Prints
// per phase MiB/s, the gateway/native ratio (of the best rates, and of each round's side-by-side
// pair; even rounds run the gateway first), node and client CPU-s per GiB and each node's peak
// RSS, then one JSON line. BENCH_GW_MIB (default 1024) scales the file and the tree; BENCH_ROUNDS
// (default 1) repeats the phases, best of each reported; BENCH_GW_ONLY=<regexp> runs only the
// phases it matches; BENCH_CPU_PROF=<dir> profiles node 0 (node --cpu-prof),
// BENCH_NODE_FLAGS adds node flags to node 0 ("--trace-gc"), BENCH_NODE_LOG_LEVEL its log level
// (default warn), BENCH_NODE_LOG=<file> keeps its output, BENCH_NODE_ENV="K=V ..." sets every
// node's environment. Peak RSS is VmHWM; "anon/file" are the sampled peaks of its two parts.
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cli, exitedChildrenCpuSeconds, run, startCluster } from './node-cluster.mjs';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const SCALE_MIB = Number(process.env.BENCH_GW_MIB ?? 1024);
const SIZE = SCALE_MIB * MIB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** BENCH_GW_ONLY: a regular expression; only the phases whose name matches run (to profile one) */
const ONLY = process.env.BENCH_GW_ONLY ? new RegExp(process.env.BENCH_GW_ONLY) : undefined;
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const work = await mkdtemp(join(tmpdir(), 'gateway-node-bench-'));
const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);

/** Deterministic incompressible bytes (AES-CTR keystream of the seed), written in 1 MiB pieces. */
async function writeData(path, size, seed) {
  const key = createHash('sha256').update(`bench:${seed}`).digest().subarray(0, 16);
  const aes = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MIB);
  const fh = await open(path, 'w');
  try {
    for (let off = 0; off < size; off += MIB) {
      await fh.write(aes.update(zeros.subarray(0, Math.min(MIB, size - off))));
    }
  } finally {
    await fh.close();
  }
}

/** A tree of ~SIZE bytes, 1 KiB to 64 MiB files; counts scale with BENCH_GW_MIB (1024 → 7,512). */
async function mixedTree(dir) {
  const plan = [
    [8, 64 * MIB],
    [16, 16 * MIB],
    [64, 2 * MIB],
    [256, 256 * 1024],
    [1024, 32 * 1024],
    [2048, 8 * 1024],
    [4096, 1024],
  ];
  let bytes = 0;
  let files = 0;
  for (const [count, size] of plan) {
    const n = Math.max(1, Math.round((count * SCALE_MIB) / 1024));
    for (let i = 0; i < n; i++) {
      const sub = join(dir, `s${size}`, `d${Math.floor(i / 200)}`);
      await mkdir(sub, { recursive: true });
      await writeData(join(sub, `f${i}.bin`), size, `${size}:${i}`);
      bytes += size;
      files++;
    }
  }
  return { bytes, files };
}

async function sha256File(path) {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: MIB })) h.update(c);
  return h.digest('hex');
}

/** One digest over a tree: every file's relative path and content, in path order. */
async function treeDigest(dir) {
  const paths = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) paths.push(join(e.parentPath ?? e.path, e.name));
  }
  paths.sort();
  const h = createHash('sha256');
  let bytes = 0;
  for (const p of paths) {
    h.update(`${relative(dir, p)}\0${await sha256File(p)}\n`);
    bytes += (await stat(p)).size;
  }
  return { digest: h.digest('hex'), files: paths.length, bytes };
}

/** name → { bytes, ms, nodes: [{ cpuS, peakRssMiB }] } of the fastest run */
const best = new Map();
/** this step's ms by phase name, and step → the gateway/native rate ratio of each round */
const lastMs = new Map();
const roundRatios = new Map();
/** each node's peak RSS over every phase (VmHWM is reset per phase) */
const peakRss = [0, 0, 0];
async function phase(cluster, name, bytes, fn) {
  if (ONLY && !ONLY.test(name)) return false;
  await Promise.all(cluster.nodes.map((n) => n.mark()));
  const client0 = await exitedChildrenCpuSeconds();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  const clientCpuS = (await exitedChildrenCpuSeconds()) - client0;
  const nodes = await Promise.all(cluster.nodes.map((n) => n.measure()));
  for (const [i, n] of nodes.entries()) peakRss[i] = Math.max(peakRss[i], n.peakRssMiB);
  const cpu = nodes.map((n) => ((n.cpuS / bytes) * GIB).toFixed(1)).join('/');
  const rss = nodes.map((n) => n.peakRssMiB.toFixed(0)).join('/');
  const parts = nodes
    .map((n) => `${n.peakAnonMiB.toFixed(0)}+${n.peakFileMiB.toFixed(0)}`)
    .join(' ');
  console.log(
    `  ${name.padEnd(34)} ${(ms / 1000).toFixed(1).padStart(6)} s ${mibs(bytes, ms).toFixed(1).padStart(7)} MiB/s  node CPU-s/GiB ${cpu} client ${((clientCpuS / bytes) * GIB).toFixed(1)}  peak RSS MiB ${rss} (anon/file ${parts})  load ${loadavg()[0].toFixed(1)}`,
  );
  lastMs.set(name, ms);
  const prev = best.get(name);
  if (!prev || ms < prev.ms) best.set(name, { bytes, ms, nodes, clientCpuS });
  return true;
}

function check(what, got, want) {
  if (got !== want) throw new Error(`${what}: got ${got}, want ${want}`);
}

try {
  console.log(
    `gateway through a node: ${SCALE_MIB} MiB, ${ROUNDS} round(s), ${new Date().toISOString()}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const big = join(work, 'big.bin');
  await writeData(big, SIZE, 'big');
  const bigSha = await sha256File(big);
  const tree = join(work, 'tree');
  const { bytes: treeBytes, files: treeFiles } = await mixedTree(tree);
  const treeSum = await treeDigest(tree);
  console.log(
    `file: ${SIZE / MIB} MiB; tree: ${treeFiles} files, ${(treeBytes / MIB).toFixed(0)} MiB`,
  );

  const prof = process.env.BENCH_CPU_PROF;
  const cluster = await startCluster(join(work, 'cluster'), {
    nodeFlags: [
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
  });
  try {
    const dir = cluster.nodes[0].dir;
    const awsConfig = join(work, 'aws-config');
    await writeFile(awsConfig, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    const awsEnv = {
      AWS_ACCESS_KEY_ID: cluster.key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: cluster.key.secretAccessKey,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const aws = (...args) =>
      run(AWS, ['--endpoint-url', cluster.s3, ...args, '--no-progress'], { env: awsEnv });
    await run(AWS, ['--endpoint-url', cluster.s3, 's3', 'mb', 's3://bench'], { env: awsEnv });
    const resticEnv = {
      RESTIC_PASSWORD: 'bench',
      RESTIC_CACHE_DIR: join(work, 'restic-cache'),
    };
    const repoUrl = (name) => {
      const u = new URL(cluster.restic);
      u.username = cluster.key.accessKeyId;
      u.password = cluster.key.secretAccessKey;
      u.pathname = `/${name}/`;
      return `rest:${u}`;
    };
    const restic = (...args) => run('restic', args, { env: resticEnv });
    const out = join(work, 'out.bin');
    const restored = join(work, 'restored');

    const N = {
      put: 'native: peerstash put',
      get: 'native: peerstash get',
      putTree: 'native: peerstash put -r (tree)',
      getTree: 'native: peerstash get -r (tree)',
    };
    const G = {
      put: 'gateway: aws s3 cp up (multipart)',
      get: 'gateway: aws s3 cp down',
      putTree: 'gateway: restic backup (tree)',
      getTree: 'gateway: restic restore (tree)',
    };
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`\nround ${round}`);
      const repo = repoUrl(`repo-${round}`);
      if (!ONLY || ONLY.test(G.putTree)) await restic('-r', repo, 'init');
      /** [native, gateway] runs of each step; even rounds run the gateway first */
      const steps = {
        put: [
          () =>
            phase(cluster, N.put, SIZE, () =>
              cli(['put', big, '--key', `big-${round}`, '--dir', dir]),
            ),
          () => phase(cluster, G.put, SIZE, () => aws('s3', 'cp', big, `s3://bench/big-${round}`)),
        ],
        get: [
          async () => {
            if (
              !(await phase(cluster, N.get, SIZE, () =>
                cli(['get', `big-${round}`, '-o', out, '--dir', dir]),
              ))
            )
              return;
            check('peerstash get sha256', await sha256File(out), bigSha);
            await rm(out);
          },
          async () => {
            if (
              !(await phase(cluster, G.get, SIZE, () =>
                aws('s3', 'cp', `s3://bench/big-${round}`, out),
              ))
            )
              return;
            check('aws s3 cp down sha256', await sha256File(out), bigSha);
            await rm(out);
          },
        ],
        putTree: [
          () =>
            phase(cluster, N.putTree, treeBytes, () =>
              cli(['put', '-r', tree, '--prefix', `tree-${round}/`, '--dir', dir]),
            ),
          () => phase(cluster, G.putTree, treeBytes, () => restic('-r', repo, 'backup', tree)),
        ],
        getTree: [
          async () => {
            const get = ['get', '-r', `tree-${round}/`, '-o', restored, '--dir', dir];
            if (!(await phase(cluster, N.getTree, treeBytes, () => cli(get)))) return;
            check('peerstash get -r digest', (await treeDigest(restored)).digest, treeSum.digest);
            await rm(restored, { recursive: true });
          },
          async () => {
            const restore = ['-r', repo, 'restore', 'latest', '--target', restored];
            if (!(await phase(cluster, G.getTree, treeBytes, () => restic(...restore)))) return;
            // restic restores the absolute path under the target
            const got = await treeDigest(join(restored, tree));
            check('restic restore digest', got.digest, treeSum.digest);
            await rm(restored, { recursive: true });
          },
        ],
      };
      for (const [step, [native, gateway]] of Object.entries(steps)) {
        for (const side of round % 2 ? [native, gateway] : [gateway, native]) await side();
        const n = lastMs.get(N[step]);
        const g = lastMs.get(G[step]);
        if (n !== undefined && g !== undefined) {
          if (!roundRatios.has(step)) roundRatios.set(step, []);
          roundRatios.get(step).push(n / g);
        }
        lastMs.clear();
      }
    }
    await cluster.stop();

    const pairs = [
      ['file put', N.put, G.put, 'put'],
      ['file get', N.get, G.get, 'get'],
      ['tree put', N.putTree, G.putTree, 'putTree'],
      ['tree get', N.getTree, G.getTree, 'getTree'],
    ];
    const rate = (n) => mibs(best.get(n).bytes, best.get(n).ms);
    const cpuPerGiB = (n) => {
      const b = best.get(n);
      return +((b.nodes.reduce((s, x) => s + x.cpuS, 0) / b.bytes) * GIB).toFixed(1);
    };
    const clientPerGiB = (n) => +((best.get(n).clientCpuS / best.get(n).bytes) * GIB).toFixed(1);
    const maxRss = (n) => Math.round(Math.max(...best.get(n).nodes.map((x) => x.peakRssMiB)));
    console.log(
      `\nbest of ${ROUNDS} (node CPU: three nodes summed; client: the CLI, aws or restic; RSS: the largest node)`,
    );
    console.log(
      `  ${'what'.padEnd(9)} ${'native MiB/s'.padStart(12)} ${'gateway MiB/s'.padStart(13)} ${'ratio'.padStart(6)} ${'by round'.padStart(10)}  ${'CPU-s/GiB n/g'.padStart(13)}  ${'client n/g'.padStart(11)}  ${'peak RSS MiB n/g'.padStart(16)}`,
    );
    const results = {};
    for (const [what, n, g, step] of pairs) {
      if (!best.has(n) || !best.has(g)) continue;
      const ratio = rate(g) / rate(n);
      const perRound = (roundRatios.get(step) ?? []).map((r) => +r.toFixed(2));
      results[what.replace(' ', '_')] = {
        nativeMiBs: +rate(n).toFixed(1),
        gatewayMiBs: +rate(g).toFixed(1),
        ratio: +ratio.toFixed(2),
        roundRatios: perRound,
        nativeCpuSPerGiB: cpuPerGiB(n),
        gatewayCpuSPerGiB: cpuPerGiB(g),
        nativeClientCpuSPerGiB: clientPerGiB(n),
        gatewayClientCpuSPerGiB: clientPerGiB(g),
        nativePeakRssMiB: maxRss(n),
        gatewayPeakRssMiB: maxRss(g),
      };
      console.log(
        `  ${what.padEnd(9)} ${rate(n).toFixed(1).padStart(12)} ${rate(g).toFixed(1).padStart(13)} ${ratio.toFixed(2).padStart(6)} ${perRound.join(',').padStart(10)}  ${`${cpuPerGiB(n)}/${cpuPerGiB(g)}`.padStart(13)}  ${`${clientPerGiB(n)}/${clientPerGiB(g)}`.padStart(11)}  ${`${maxRss(n)}/${maxRss(g)}`.padStart(16)}`,
      );
    }
    console.log(
      JSON.stringify({
        bench: 'gateway-node',
        sizeMiB: SCALE_MIB,
        rounds: ROUNDS,
        treeFiles,
        treeMiB: +(treeBytes / MIB).toFixed(1),
        cpus: cpus().length,
        load: +loadavg()[0].toFixed(2),
        results,
        nodePeakRssMiB: peakRss.map(Math.round),
      }),
    );
  } catch (err) {
    for (const [i, n] of cluster.nodes.entries()) console.error(`node ${i} log tail:\n${n.logs}`);
    await cluster.stop();
    throw err;
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
