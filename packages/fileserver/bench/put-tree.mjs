// End-to-end put benchmark: `peerstash put -r` (the real CLI, -j 12) of a generated tree of
// BENCH_PUT_FILES files of 1 KiB (default 100,000; give fewer for a quick run) into 3 vault nodes
// run as child processes, in two steps (the first BENCH_PUT_FILES/5, then the rest) with
// `peerstash ls` and `peerstash status` timed after each: they must not grow with the files.
// Baseline from the same run: `cp -r` of the same tree (the disk writing the same files).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { NODE_FLAGS } from '../dist/index.js';

const FILES = Number(process.env.BENCH_PUT_FILES ?? 100_000);
const FIRST = Math.round(FILES / 5);
const PER_DIR = 500;
const CLI = new URL('../../../apps/cli/dist/bin.js', import.meta.url).pathname;
const NODE = new URL('./node.mjs', import.meta.url).pathname;
const run = promisify(execFile);

async function time(fn) {
  const t = process.hrtime.bigint();
  const out = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
}
async function startNode(cfg) {
  const child = spawn(process.execPath, [...NODE_FLAGS, NODE, JSON.stringify(cfg)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const info = JSON.parse(line);
  const token = (await readFile(join(cfg.dataDir, 'api-token'), 'utf8')).trim();
  return { ...info, child, token };
}
const cli = (args) => run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 30 });
async function tree(dir, from, to) {
  const fill = randomBytes(1024);
  for (let i = from; i < to; i++) {
    const d = join(dir, `d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`);
    if (i % PER_DIR === 0 || i === from) await mkdir(d, { recursive: true });
    fill.writeUInt32BE(i, 0);
    await writeFile(join(d, `f${String(i % PER_DIR).padStart(4, '0')}.bin`), fill);
  }
}
const du = async (dirs) =>
  (await run('du', ['-sb', ...dirs])).stdout
    .trim()
    .split('\n')
    .reduce((s, l) => s + Number(l.split('\t')[0]), 0);
async function hwm(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]) / 1024;
}

const root = await mkdtemp(join(tmpdir(), 'put-tree-bench-'));
const nodes = [];
try {
  console.log(
    `@peerstash/fileserver put -r bench — ${FILES.toLocaleString()} files of 1 KiB into 3 nodes (child processes), Node ${process.version}`,
  );
  const vaultKey = randomBytes(32).toString('base64');
  const clusterSecret = randomBytes(32).toString('base64');
  const dirs = [0, 1, 2].map((i) => join(root, `n${i}`));
  for (const d of dirs) {
    await mkdir(d, { recursive: true });
    const bootstrap = nodes.length ? [nodes[0].address] : [];
    nodes.push(await startNode({ dataDir: d, bootstrap, vaultKey, clusterSecret }));
  }
  const empty = await du(dirs);
  const steps = [
    ['a', 0, FIRST],
    ['b', FIRST, FILES],
  ];
  const results = [];
  for (const [name, from, to] of steps) {
    const src = join(root, `tree-${name}`);
    await tree(src, from, to);
    const cp = await time(() => run('cp', ['-r', src, join(root, `copy-${name}`)]));
    await rm(join(root, `copy-${name}`), { recursive: true, force: true });
    const put = await time(() =>
      cli(['put', '-r', src, '--prefix', `${name}/`, '-j', '12', '--json', '--dir', dirs[0]]),
    );
    const summary = JSON.parse(put.out.stdout);
    if (summary.uploaded !== to - from) throw new Error(`uploaded ${summary.uploaded}`);
    await rm(src, { recursive: true, force: true });
    await sleep(1000);
    const ls = await time(() => cli(['ls', '--dir', dirs[0]]));
    const st = await time(() => cli(['status', '--dir', dirs[0]]));
    const disk = (await du(dirs)) - empty;
    results.push({ files: to, n: to - from, put: put.ms, cp: cp.ms, ls: ls.ms, st: st.ms, disk });
  }
  for (const r of results) {
    const fps = r.n / (r.put / 1000);
    console.log(
      `put -r of ${r.n.toLocaleString()} files: ${(r.put / 1000).toFixed(1)} s, ${fps.toFixed(0)} files/s ` +
        `(cp -r of the tree ${(r.cp / 1000).toFixed(2)} s: put is ${(r.put / r.cp).toFixed(0)}× cp -r)`,
    );
    console.log(
      `at ${r.files.toLocaleString()} files: peerstash ls ${r.ls.toFixed(0)} ms, peerstash status ${r.st.toFixed(0)} ms, ` +
        `disk ${(r.disk / r.files).toFixed(0)} bytes per stored file (du of 3 data dirs / files)`,
    );
  }
  const [a, b] = results;
  console.log(
    `ls ${(b.ls / a.ls).toFixed(2)}×, status ${(b.st / a.st).toFixed(2)}× from ${a.files.toLocaleString()} to ${b.files.toLocaleString()} files (must not grow)`,
  );
  for (const [i, n] of nodes.entries())
    console.log(`node ${i + 1} peak RSS (VmHWM): ${(await hwm(n.pid)).toFixed(0)} MiB`);
} finally {
  for (const n of nodes) {
    // an exited node emits no second 'exit' (an unsettled top-level await exits 13)
    if (n.child.exitCode !== null || n.child.signalCode !== null) continue;
    const exited = once(n.child, 'exit');
    n.child.kill('SIGTERM');
    await exited;
  }
  await rm(root, { recursive: true, force: true });
}
