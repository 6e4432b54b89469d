// Gateway benchmark: aws-cli multipart put/get of 1 GiB and a restic backup/restore of a 1 GiB
// tree of mixed sizes through the gateway (its own process: peak RSS and CPU), beside baselines
// measured in the same run: the backend written and read directly, curl PUT/GET of the same bytes
// to a plain node http server, and restic against a local-directory repository.
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
const results = [];
const mibs = (bytes, ms) => bytes / MIB / (ms / 1000);

function record(name, bytes, ms, baseline) {
  const rate = mibs(bytes, ms);
  results.push({ name, seconds: +(ms / 1000).toFixed(2), mibPerSec: +rate.toFixed(1), baseline });
  console.log(
    `${name.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(7)} s ${rate.toFixed(1).padStart(8)} MiB/s`,
  );
  return rate;
}

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
    `gateway bench: ${SIZE / MIB} MiB, ${new Date().toISOString()}, node ${process.version}\n`,
  );
  const big = join(work, 'big.bin');
  await writeRandom(big, SIZE, 42);
  const tree = join(work, 'tree');
  const { total: treeBytes, files: treeFiles } = await mixedTree(tree);
  console.log(`tree: ${treeFiles} files, ${(treeBytes / MIB).toFixed(0)} MiB\n`);

  // ---- baselines
  const direct = await new DiskBackend({ root: join(work, 'direct') }).open();
  const dWrite = record(
    'baseline: backend.write (direct, in process)',
    SIZE,
    await timed(() => direct.write('b/big', createReadStream(big, { highWaterMark: MIB }))),
  );
  const dRead = record(
    'baseline: backend.read (direct, in process)',
    SIZE,
    await timed(async () => pipeline((await direct.read('b/big')).stream, sink())),
  );
  await rm(join(work, 'direct'), { recursive: true });

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
  const cPut = record(
    'baseline: curl PUT to a plain node http server',
    SIZE,
    await timed(() => run('curl', ['-sSf', '-T', big, purl, '-o', '/dev/null'])),
  );
  const cGet = record(
    'baseline: curl GET from a plain node http server',
    SIZE,
    await timed(() => run('curl', ['-sSf', purl, '-o', join(work, 'plain-back.bin')])),
  );
  plain.close();
  await rm(plainFile);
  await rm(join(work, 'plain-back.bin'));

  const localRepo = join(work, 'local-repo');
  const renv = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(work, 'restic-cache') };
  await run('restic', ['-r', localRepo, 'init'], renv);
  const rLocal = record(
    'baseline: restic backup to a local-directory repo',
    treeBytes,
    await timed(() => run('restic', ['-r', localRepo, 'backup', tree], renv)),
  );
  const rLocalRestore = record(
    'baseline: restic restore from a local-directory repo',
    treeBytes,
    await timed(() =>
      run('restic', ['-r', localRepo, 'restore', 'latest', '--target', join(work, 'rl')], renv),
    ),
  );
  await rm(localRepo, { recursive: true });
  await rm(join(work, 'rl'), { recursive: true });
  console.log('');

  // ---- through the gateway
  const figures = {};
  for (const compose of [true, false]) {
    const gw = await startGatewayProcess(compose);
    const env = await awsEnv(gw);
    const label = compose ? 'compose (manifest)' : 'no compose (copy on complete)';
    await run('aws', ['--endpoint-url', gw.s3, 's3', 'mb', 's3://bench'], env);
    const put = record(
      `gateway: aws s3 cp up (multipart), ${label}`,
      SIZE,
      await timed(() =>
        run(
          'aws',
          ['--endpoint-url', gw.s3, 's3', 'cp', big, 's3://bench/big.bin', '--no-progress'],
          env,
        ),
      ),
    );
    const get = record(
      `gateway: aws s3 cp down (ranged GETs), ${label}`,
      SIZE,
      await timed(() =>
        run(
          'aws',
          [
            '--endpoint-url',
            gw.s3,
            's3',
            'cp',
            's3://bench/big.bin',
            join(work, 'back.bin'),
            '--no-progress',
          ],
          env,
        ),
      ),
    );
    await rm(join(work, 'back.bin'));
    figures[compose ? 'compose' : 'copy'] = { put, get };
    if (compose) {
      const repo = `rest:http://${gw.id}:${gw.secret}@127.0.0.1:${gw.restic}/bench/`;
      await run('restic', ['-r', repo, 'init'], renv);
      figures.restic = record(
        'gateway: restic backup (REST)',
        treeBytes,
        await timed(() => run('restic', ['-r', repo, 'backup', tree], renv)),
      );
      figures.resticRestore = record(
        'gateway: restic restore (REST)',
        treeBytes,
        await timed(() =>
          run('restic', ['-r', repo, 'restore', 'latest', '--target', join(work, 'rg')], renv),
        ),
      );
      await rm(join(work, 'rg'), { recursive: true });
    }
    const rss = await gw.peakRssMiB();
    const cpu = await gw.stop();
    figures[`rss-${compose ? 'compose' : 'copy'}`] = rss;
    console.log(
      `gateway process (${label}): peak RSS ${rss.toFixed(0)} MiB, CPU ${(cpu / 1000).toFixed(1)} s\n`,
    );
    await rm(gw.root, { recursive: true });
  }

  const pct = (a, b) => `${((a / b) * 100).toFixed(0)}%`;
  console.log('ratios (gateway / baseline):');
  console.log(
    `  aws put, compose  / curl PUT      ${pct(figures.compose.put, cPut)}   / backend.write ${pct(figures.compose.put, dWrite)}`,
  );
  console.log(
    `  aws put, copy     / curl PUT      ${pct(figures.copy.put, cPut)}   / backend.write ${pct(figures.copy.put, dWrite)}`,
  );
  console.log(
    `  aws get, compose  / curl GET      ${pct(figures.compose.get, cGet)}   / backend.read  ${pct(figures.compose.get, dRead)}`,
  );
  console.log(`  restic backup     / local repo    ${pct(figures.restic, rLocal)}`);
  console.log(`  restic restore    / local repo    ${pct(figures.resticRestore, rLocalRestore)}`);
  console.log(`\n${JSON.stringify({ sizeMiB: SIZE / MIB, treeFiles, results, figures })}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
