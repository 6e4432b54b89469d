// Benchmark of CasBlockstore beside blockstore-fs, the js-stores file-system blockstore, in the
// same run: put (putMany) and get (32 readers) of 10,000 × 256 KiB and 100,000 × 1 KiB blocks.
// Usage: pnpm bench  (env: BENCH_DIR, BENCH_BIG_BLOCKS=10000, BENCH_SMALL_BLOCKS=100000)
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = process.env.BENCH_DIR ?? '/work/tmp-bench-cas-blockstore';
const WORKER = fileURLToPath(new URL('./blockstore-worker.mjs', import.meta.url));
const MIB = 1024 * 1024;
const workloads = [
  { name: '256 KiB', count: Number(process.env.BENCH_BIG_BLOCKS ?? 10_000), size: 256 * 1024 },
  { name: '1 KiB', count: Number(process.env.BENCH_SMALL_BLOCKS ?? 100_000), size: 1024 },
];
const impls = [
  { id: 'fs', label: 'blockstore-fs 4.0.1' },
  { id: 'cas', label: 'CasBlockstore' },
];

function run(impl, w) {
  const dir = join(DIR, `${impl}-${w.size}`);
  const r = spawnSync(process.execPath, [WORKER, impl, String(w.count), String(w.size), dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${impl} ${w.name} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d });

async function main() {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const df = spawnSync('df', ['-T', DIR]).stdout.toString().trim().split('\n').pop();
  console.log(`\nblockstore bench in ${DIR} (${df?.split(/\s+/)[1]}), node ${process.version}`);
  for (const w of workloads) {
    const res = {};
    // blockstore-fs first, then ours, each in a fresh process on a fresh folder.
    for (const impl of impls) {
      res[impl.id] = run(impl.id, w);
      await rm(join(DIR, `${impl.id}-${w.size}`), { recursive: true, force: true });
    }
    const bytes = w.count * w.size;
    console.log(`\n${fmt(w.count)} blocks of ${w.name} (${fmt(bytes / MIB)} MiB)`);
    console.log(
      `${'store'.padEnd(22)}${'put blocks/s'.padStart(14)}${'put MB/s'.padStart(10)}${'get blocks/s'.padStart(14)}${'get MB/s'.padStart(10)}${'disk B/block'.padStart(14)}${'peak RSS MiB'.padStart(14)}`,
    );
    for (const impl of impls) {
      const r = res[impl.id];
      console.log(
        `${impl.label.padEnd(22)}${fmt(w.count / (r.putMs / 1000)).padStart(14)}${fmt(bytes / MIB / (r.putMs / 1000), 1).padStart(10)}${fmt(w.count / (r.getMs / 1000)).padStart(14)}${fmt(bytes / MIB / (r.getMs / 1000), 1).padStart(10)}${fmt(r.diskBytes / w.count).padStart(14)}${fmt(r.maxRssKiB / 1024).padStart(14)}`,
      );
    }
    const [f, c] = [res.fs, res.cas];
    console.log(
      `ratio CasBlockstore / blockstore-fs: put ${((f.putMs / c.putMs) * 100).toFixed(0)}%, get ${((f.getMs / c.getMs) * 100).toFixed(0)}%, disk ${((c.diskBytes / f.diskBytes) * 100).toFixed(0)}%, peak RSS ${((c.maxRssKiB / f.maxRssKiB) * 100).toFixed(0)}%`,
    );
  }
}

try {
  await main();
} finally {
  await rm(DIR, { recursive: true, force: true });
}
