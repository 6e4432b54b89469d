// Gateway benchmark: aws-cli multipart put/get of 1 GiB and a restic backup/restore of a 1 GiB
// tree of mixed sizes through the gateway (its own process: peak RSS and CPU), beside baselines
// measured in the same run: the backend written and read directly, curl PUT/GET of the same bytes
// to a plain node http server, and restic against a local-directory repository. Baseline and
// gateway runs alternate for BENCH_ROUNDS rounds (default 2) and the best of each is reported, so
// load from other work on a shared machine weighs on both sides alike.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DiskBackend } from './.build/test/disk-backend.js';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MIB ?? 1024) * MIB;
const here = import.meta.dirname;
const work = await mkdtemp(join(tmpdir(), 'gateway-bench-'));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);
/** name → { bytes, ms } of the fastest run */
const best = new Map();
const B = {
  write: 'baseline: backend.write (direct, in process)',
  read: 'baseline: backend.read (direct, in process)',
  put: 'baseline: curl PUT to a plain node http server',
  get: 'baseline: curl GET from a plain node http server',
  backup: 'baseline: restic backup to a local-directory repo',
  restore: 'baseline: restic restore from a local-directory repo',
};
const G = {
  backup: 'gateway: restic backup (REST)',
  restore: 'gateway: restic restore (REST)',
  curlPut: 'gateway: curl --aws-sigv4 PUT (one PutObject)',
  curlGet: 'gateway: curl --aws-sigv4 GET (one GetObject)',
};

function record(name, bytes, ms) {
  const prev = best.get(name);
  if (!prev || ms < prev.ms) best.set(name, { bytes, ms });
  console.log(
    `  ${name.padEnd(56)} ${(ms / 1000).toFixed(2).padStart(7)} s ${mibs(bytes, ms).toFixed(1).padStart(8)} MiB/s`,
  );
}
const rate = (name) => mibs(best.get(name).bytes, best.get(name).ms);

function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${code}\n${err}`)),
    );
  });
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const pool = randomBytes(8 * MIB);
async function writeRandom(path, size, seed) {
  const fh = await open(path, 'w');
  try {
    for (let off = 0, i = 0; off < size; i++) {
      const n = Math.min(MIB, size - off);
      const start = ((i * 7919 + seed * 104_729) % 7) * MIB;
      const piece = Buffer.from(pool.subarray(start, start + n));
      piece.writeUInt32BE(seed >>> 0, 0);
      if (n >= 8) piece.writeUInt32BE(i, 4);
      await fh.write(piece);
      off += n;
    }
  } finally {
    await fh.close();
  }
}

/** ~SIZE bytes: one big file, some medium, many small (as a home folder or a code tree has). */
async function mixedTree(dir) {
  const plan = [
    [1, SIZE / 4],
    [16, SIZE / 64],
    [256, SIZE / 1024],
    [2048, SIZE / 16_384],
    [4096, SIZE / 65_536],
  ];
  let total = 0;
  let files = 0;
  let seed = 1;
  for (const [count, size] of plan) {
    for (let i = 0; i < count; i++) {
      const sub = join(dir, `d${Math.floor(i / 256)}`);
      await mkdir(sub, { recursive: true });
      await writeRandom(join(sub, `f${size}-${i}.bin`), Math.max(1, Math.floor(size)), seed++);
      total += Math.max(1, Math.floor(size));
      files++;
    }
  }
  return { total, files };
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

async function startGatewayProcess(compose) {
  const root = join(work, `gw-${compose ? 'compose' : 'copy'}`);
  await mkdir(root, { recursive: true });
  const child = spawn(
    process.execPath,
    [join(here, 'gateway.mjs'), root, compose ? 'compose' : 'no-compose'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const [first] = await once(lines, 'line');
  const info = JSON.parse(first);
  return {
    ...info,
    root,
    peakRssMiB() {
      return readFile(`/proc/${child.pid}/status`, 'utf8').then(
        (s) => Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024,
      );
    },
    async stop() {
      child.kill('SIGTERM');
      const [line] = await once(lines, 'line');
      await once(child, 'close');
      return JSON.parse(line).cpuMs;
    },
  };
}

function awsEnv(gw) {
  const config = join(work, 'aws-config');
  return writeFile(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n').then(
    () => ({
      AWS_ACCESS_KEY_ID: gw.id,
      AWS_SECRET_ACCESS_KEY: gw.secret,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
  );
}

try {
  console.log(
    `gateway bench: ${SIZE / MIB} MiB, ${ROUNDS} rounds, ${new Date().toISOString()}, node ${process.version}`,
  );
  const big = join(work, 'big.bin');
  await writeRandom(big, SIZE, 42);
  const tree = join(work, 'tree');
  const { total: treeBytes, files: treeFiles } = await mixedTree(tree);
  console.log(`tree: ${treeFiles} files, ${(treeBytes / MIB).toFixed(0)} MiB`);

  const plainFile = join(work, 'plain.bin');
  const plain = createServer(async (req, res) => {
    if (req.method === 'PUT') {
      await pipeline(req, createWriteStream(plainFile));
      const fh = await open(plainFile, 'r+');
      await fh.sync();
      await fh.close();
      res.end();
    } else {
      await pipeline(createReadStream(plainFile, { highWaterMark: MIB }), res);
    }
  });
  await new Promise((r) => plain.listen(0, '127.0.0.1', r));
  const purl = `http://127.0.0.1:${plain.address().port}/x`;
  const renv = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(work, 'restic-cache') };
  const gws = { compose: await startGatewayProcess(true), copy: await startGatewayProcess(false) };
  const envs = {};
  for (const [name, gw] of Object.entries(gws)) {
    envs[name] = await awsEnv(gw);
    await run('aws', ['--endpoint-url', gw.s3, 's3', 'mb', 's3://bench'], envs[name]);
  }
  const LABEL = { compose: 'compose (manifest)', copy: 'no compose (copy on complete)' };

  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`\nround ${round}`);
    const direct = await new DiskBackend({ root: join(work, 'direct') }).open();
    record(
      B.write,
      SIZE,
      await timed(() => direct.write('b/big', createReadStream(big, { highWaterMark: MIB }))),
    );
    record(
      B.read,
      SIZE,
      await timed(async () => pipeline((await direct.read('b/big')).stream, sink())),
    );
    await rm(join(work, 'direct'), { recursive: true });
    record(
      B.put,
      SIZE,
      await timed(() => run('curl', ['-sSf', '-T', big, purl, '-o', '/dev/null'])),
    );
    record(
      B.get,
      SIZE,
      await timed(() => run('curl', ['-sSf', purl, '-o', join(work, 'plain-back.bin')])),
    );
    await rm(plainFile);
    await rm(join(work, 'plain-back.bin'));

    for (const [name, gw] of Object.entries(gws)) {
      const env = envs[name];
      const aws = (...args) => run('aws', ['--endpoint-url', gw.s3, ...args], env);
      if (name === 'compose') {
        // one signed request each way, from the same client as the plain-server baseline
        const curl = (...args) =>
          run('curl', [
            '-sSf',
            '--aws-sigv4',
            'aws:amz:us-east-1:s3',
            '--user',
            `${gw.id}:${gw.secret}`,
            '-H',
            'x-amz-content-sha256: UNSIGNED-PAYLOAD',
            ...args,
          ]);
        record(
          G.curlPut,
          SIZE,
          await timed(() => curl('-T', big, `${gw.s3}/bench/curl.bin`, '-o', '/dev/null')),
        );
        record(
          G.curlGet,
          SIZE,
          await timed(() => curl(`${gw.s3}/bench/curl.bin`, '-o', join(work, 'back.bin'))),
        );
        await rm(join(work, 'back.bin'));
        await aws('s3', 'rm', 's3://bench/curl.bin');
      }
      // aws-cli's own start-up (python, botocore) is part of every cp below
      if (name === 'compose')
        record(
          'aws-cli alone: s3 ls of an empty bucket',
          0,
          await timed(() => aws('s3', 'ls', 's3://bench')),
        );
      record(
        `gateway: aws s3 cp up (multipart), ${LABEL[name]}`,
        SIZE,
        await timed(() => aws('s3', 'cp', big, 's3://bench/big.bin', '--no-progress')),
      );
      record(
        `gateway: aws s3 cp down (ranged GETs), ${LABEL[name]}`,
        SIZE,
        await timed(() =>
          aws('s3', 'cp', 's3://bench/big.bin', join(work, 'back.bin'), '--no-progress'),
        ),
      );
      await rm(join(work, 'back.bin'));
      await aws('s3', 'rm', 's3://bench/big.bin');
    }

    // a fresh repository each round: a second backup into the same one would be deduplicated
    const localRepo = join(work, 'local-repo');
    await run('restic', ['-r', localRepo, 'init'], renv);
    record(
      B.backup,
      treeBytes,
      await timed(() => run('restic', ['-r', localRepo, 'backup', tree], renv)),
    );
    record(
      B.restore,
      treeBytes,
      await timed(() =>
        run('restic', ['-r', localRepo, 'restore', 'latest', '--target', join(work, 'rl')], renv),
      ),
    );
    await rm(localRepo, { recursive: true });
    await rm(join(work, 'rl'), { recursive: true });
    const gw = gws.compose;
    const repo = `rest:http://${gw.id}:${gw.secret}@127.0.0.1:${gw.restic}/bench${round}/`;
    await run('restic', ['-r', repo, 'init'], renv);
    record(
      G.backup,
      treeBytes,
      await timed(() => run('restic', ['-r', repo, 'backup', tree], renv)),
    );
    record(
      G.restore,
      treeBytes,
      await timed(() =>
        run('restic', ['-r', repo, 'restore', 'latest', '--target', join(work, 'rg')], renv),
      ),
    );
    await rm(join(work, 'rg'), { recursive: true });
  }
  plain.close();

  const procs = {};
  for (const [name, gw] of Object.entries(gws)) {
    const peakRssMiB = +(await gw.peakRssMiB()).toFixed(0);
    procs[name] = { peakRssMiB, cpuSeconds: +((await gw.stop()) / 1000).toFixed(1) };
  }
  console.log(`\nbest of ${ROUNDS}:`);
  for (const [name, { bytes, ms }] of best) {
    console.log(
      `  ${name.padEnd(56)} ${(ms / 1000).toFixed(2).padStart(7)} s ${mibs(bytes, ms).toFixed(1).padStart(8)} MiB/s`,
    );
  }
  for (const [name, p] of Object.entries(procs)) {
    console.log(
      `  gateway process (${LABEL[name]}): peak RSS ${p.peakRssMiB} MiB, CPU ${p.cpuSeconds} s`,
    );
  }
  const pct = (a, b) => `${((rate(a) / rate(b)) * 100).toFixed(0)}%`;
  const up = (n) => `gateway: aws s3 cp up (multipart), ${LABEL[n]}`;
  const down = (n) => `gateway: aws s3 cp down (ranged GETs), ${LABEL[n]}`;
  console.log('ratios (gateway / baseline):');
  console.log(
    `  aws put, compose / curl PUT ${pct(up('compose'), B.put)}, / backend.write ${pct(up('compose'), B.write)}`,
  );
  console.log(
    `  aws put, copy    / curl PUT ${pct(up('copy'), B.put)}, / backend.write ${pct(up('copy'), B.write)}`,
  );
  console.log(
    `  aws get          / curl GET ${pct(down('compose'), B.get)}, / backend.read ${pct(down('compose'), B.read)}`,
  );
  console.log(
    `  curl PUT         / curl PUT ${pct(G.curlPut, B.put)};  curl GET / curl GET ${pct(G.curlGet, B.get)}`,
  );
  console.log(`  restic backup    / local repo ${pct(G.backup, B.backup)}`);
  console.log(`  restic restore   / local repo ${pct(G.restore, B.restore)}`);
  const figures = Object.fromEntries(
    [...best].map(([n, { bytes, ms }]) => [
      n,
      { seconds: +(ms / 1000).toFixed(2), mibPerSec: +mibs(bytes, ms).toFixed(1) },
    ]),
  );
  console.log(
    `\n${JSON.stringify({ sizeMiB: SIZE / MIB, rounds: ROUNDS, treeFiles, figures, procs })}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
