// The node-level measure of cryptoThreads: putget.mjs (1 GiB, 3 nodes, in-process put on A and
// gets on B and C) with the writer A pinned by `taskset -c 0` and `-c 0,1`, each inline
// (cryptoThreads 0) and on a pool (BENCH_POOL_THREADS, default 2). Prints one row per case.
// BENCH_PUTGET_MIB, BENCH_ROUNDS and BENCH_SYSTEMS (default inproc) pass through.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const POOL = process.env.BENCH_POOL_THREADS ?? '2';
const cases = [];
for (const cpus of ['0', '0,1']) for (const threads of ['0', POOL]) cases.push({ cpus, threads });

console.log(
  'writer cpus  cryptoThreads  put MiB/s  put CPU-s/GiB (all nodes / writer)  ' +
    'get B MiB/s  get B CPU-s/GiB  get C MiB/s',
);
for (const { cpus, threads } of cases) {
  const { stdout } = await exec(
    process.execPath,
    [new URL('./putget.mjs', import.meta.url).pathname],
    {
      env: {
        ...process.env,
        BENCH_SYSTEMS: process.env.BENCH_SYSTEMS ?? 'inproc',
        BENCH_SMALL: '',
        BENCH_ONE_HOLDER: '0',
        BENCH_WRITER_CPUS: cpus,
        BENCH_CRYPTO_THREADS: threads,
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1));
  console.log(
    `${cpus.padEnd(11)}  ${threads.padStart(13)}  ${String(r.putMiBs).padStart(9)}  ` +
      `${`${r.putCpuSecPerGiB} / ${r.putWriterCpuSecPerGiB}`.padStart(34)}  ` +
      `${String(r.getLocalMiBs).padStart(11)}  ${String(r.getLocalCpuSecPerGiB).padStart(15)}  ` +
      `${String(r.getRemoteMiBs).padStart(11)}`,
  );
}
