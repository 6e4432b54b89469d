// CLI figures: put/get throughput of the `peerstash` binary against a real node, beside a plain
// in-process node:http client moving the same file between the same disk and node in the same
// run (the baseline; the CLI's figure includes starting its process), plus start-up time,
// demo wall time and the peak RSS of the CLI processes. Run with `pnpm bench` after a build.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BIN_PATH, initDataDir, startNode } from '../dist/index.js';

const SIZE = Number(process.env.BENCH_MIB ?? 256) * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const root = await mkdtemp(join(tmpdir(), 'peerstash-cli-bench-'));
// Writes the child's peak RSS (KiB) to the file named in PEERSTASH_BENCH_RSS when it exits.
const preload = join(root, 'rss.mjs');
await writeFile(
  preload,
  `import { writeFileSync } from 'node:fs';
process.on('exit', () => { if (process.env.PEERSTASH_BENCH_RSS) writeFileSync(process.env.PEERSTASH_BENCH_RSS, String(process.resourceUsage().maxRSS)); });
`,
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (n) => n / 1024 / 1024;

async function cli(args, rssFile) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', preload, BIN_PATH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEERSTASH_BENCH_RSS: rssFile ?? '' },
  });
  let err = '';
  child.stderr.on('data', (c) => {
    err += c;
  });
  child.stdout.resume();
  const [code] = await once(child, 'close');
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`peerstash ${args.join(' ')} exited ${code}: ${err}`);
  const rssKiB = rssFile ? Number(await readFile(rssFile, 'utf8')) : 0;
  return { ms, rssKiB };
}

function httpOnce(client, method, key, body) {
  return new Promise((resolve, reject) => {
    const req = request({
      host: client.host,
      port: client.port,
      method,
      path: `/v1/files/${encodeURIComponent(key)}`,
      headers: {
        authorization: `Bearer ${client.token}`,
        ...(body ? { 'content-length': SIZE } : {}),
      },
    });
    req.on('response', resolve);
    req.on('error', reject);
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

try {
  const input = join(root, 'input.bin');
  let left = SIZE;
  await pipeline(
    new Readable({
      read() {
        if (left === 0) return void this.push(null);
        const c = randomBytes(Math.min(left, 1 << 20));
        left -= c.length;
        this.push(c);
      },
    }),
    createWriteStream(input),
  );
  const dir = join(root, 'node');
  await initDataDir({ dir, listen: '127.0.0.1:0' });
  const node = await startNode({ dir, args: ['--log-level', 'warn'], timeoutMs: 60_000 });
  const token = (await readFile(join(dir, 'api-token'), 'utf8')).trim();
  const raw = { host: node.client.host, port: node.client.port, token };
  const rows = [];
  try {
    const put = { base: [], cli: [], rss: [] };
    const get = { base: [], cli: [], rss: [] };
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      const res = await httpOnce(raw, 'PUT', `base-${i}`, createReadStream(input));
      res.resume();
      await once(res, 'end');
      put.base.push(performance.now() - t);

      t = performance.now();
      const g = await httpOnce(raw, 'GET', `base-${i}`);
      const baseOut = join(root, `base-${i}.bin`);
      await pipeline(g, createWriteStream(baseOut));
      get.base.push(performance.now() - t);
      await rm(baseOut);

      const p = await cli(['put', input, '--key', `cli-${i}`, '--dir', dir], join(root, 'rss-put'));
      put.cli.push(p.ms);
      put.rss.push(p.rssKiB);
      const out = join(root, `out-${i}.bin`);
      const q = await cli(['get', `cli-${i}`, '-o', out, '--dir', dir], join(root, 'rss-get'));
      get.cli.push(q.ms);
      get.rss.push(q.rssKiB);
      if ((await stat(out)).size !== SIZE) throw new Error('short get');
      await rm(out);
    }
    for (const [name, m] of [
      ['put', put],
      ['get', get],
    ]) {
      const base = mib(SIZE) / (median(m.base) / 1000);
      const viaCli = mib(SIZE) / (median(m.cli) / 1000);
      rows.push({
        what: `${name} ${mib(SIZE)} MiB`,
        'baseline MiB/s': base.toFixed(1),
        'peerstash MiB/s': viaCli.toFixed(1),
        ratio: (viaCli / base).toFixed(2),
        'CLI peak RSS MiB': (Math.max(...m.rss) / 1024).toFixed(1),
      });
    }

    const startBase = [];
    const startCli = [];
    for (let i = 0; i < 7; i++) {
      let t = performance.now();
      const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      await once(c, 'close');
      startBase.push(performance.now() - t);
      t = performance.now();
      await cli(['--version']);
      startCli.push(performance.now() - t);
    }
    rows.push({
      what: 'start-up (--version)',
      'baseline ms (node -e 0)': median(startBase).toFixed(0),
      'peerstash ms': median(startCli).toFixed(0),
      ratio: (median(startCli) / median(startBase)).toFixed(2),
    });
  } finally {
    await node.stop();
  }

  const demo = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await cli(['demo', '--json']);
    demo.push(performance.now() - t);
  }
  rows.push({
    what: 'demo wall time (3 runs)',
    'median s': (median(demo) / 1000).toFixed(1),
    'max s': (Math.max(...demo) / 1000).toFixed(1),
  });

  console.log(
    `peerstash CLI bench: ${mib(SIZE)} MiB file, ${ROUNDS} rounds (median), node ${process.version}`,
  );
  for (const r of rows) console.log(JSON.stringify(r));
  console.log(`bench process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
} finally {
  await rm(root, { recursive: true, force: true });
}
