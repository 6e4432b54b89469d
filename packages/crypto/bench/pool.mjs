// Seal and open throughput inline vs on a CryptoPool of 1, 2 and 4 worker threads, beside the
// OpenSSL limits measured in the same run; run it under `taskset -c 0` / `-c 0,1` to pin cores.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CryptoPool, newEncryptionKey, open, seal } from '../dist/index.js';
import { plaintext, sealedFixture } from './fixture.mjs';

const MIB = 1024 * 1024;
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * MIB;
const PIECE = Number(process.env.BENCH_PIECE ?? 65536);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const THREADS = (process.env.BENCH_THREADS ?? '1,2,4').split(',').map(Number);
const SECONDS = process.env.BENCH_OPENSSL_SECONDS ?? '2';

function opensslRate(args) {
  const out = execFileSync(
    'openssl',
    ['speed', '-mr', '-seconds', SECONDS, '-bytes', '65536', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // with -multi the summed line is "+F:..." too; take the last one
  const line = out
    .split('\n')
    .filter((l) => l.startsWith('+F:'))
    .at(-1);
  if (!line) throw new Error(`no result from openssl speed ${args.join(' ')}`);
  return Number(line.split(':').at(-1)) / 1e6;
}

const sink = () =>
  new Writable({
    highWaterMark: MIB,
    write(_c, _e, cb) {
      cb();
    },
  });

// wall MB/s, process CPU-seconds per GiB (all threads), and the share of the wall time the
// main thread's event loop was busy (what a node's TLS, HTTP and disk work would compete with)
async function timed(source, transform) {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const start = process.hrtime.bigint();
  await pipeline(source, transform, sink());
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(elu).utilization;
  const cpuS = (used.user + used.system) / 1e6;
  return { wall: TOTAL / wall / 1e6, cpuPerGiB: cpuS / (TOTAL / (1024 * MIB)), main: busy };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const key = newEncryptionKey();
const sealed = await sealedFixture(key, TOTAL, PIECE);
function* sealedPieces() {
  for (let at = 0; at < sealed.length; at += PIECE) yield sealed.subarray(at, at + PIECE);
}

const cores = availableParallelism();
const ctr = opensslRate(['-evp', 'aes-256-ctr']);
const hmac = opensslRate(['-hmac', 'sha256']);
const combined = 1 / (1 / ctr + 1 / hmac);
const multi = cores > 1 ? opensslRate(['-multi', String(cores), '-hmac', 'sha256']) : hmac;
console.log(
  `@peerstash/crypto pool bench — ${TOTAL / MIB} MiB per run, ${PIECE}-byte pieces, ` +
    `${ROUNDS} rounds (median), ${cores} core(s) available, Node ${process.version}`,
);
console.log(
  `openssl speed (64 KiB, same run): aes-256-ctr ${ctr.toFixed(0)} MB/s, hmac sha256 ` +
    `${hmac.toFixed(0)} MB/s, one-core combined limit ${combined.toFixed(0)} MB/s; ` +
    `hmac -multi ${cores}: ${multi.toFixed(0)} MB/s`,
);
console.log('mode        seal MB/s  CPU-s/GiB  main busy   open MB/s  CPU-s/GiB  main busy');
const modes = [
  { name: 'inline', threads: 0 },
  ...THREADS.map((t) => ({ name: `pool ${t}`, threads: t })),
];
for (const mode of modes) {
  const pool = mode.threads > 0 ? new CryptoPool({ threads: mode.threads }) : undefined;
  const sealOf = () => (pool ? pool.seal(key) : seal(key));
  const openOf = () => (pool ? pool.open(key) : open(key));
  const runs = { seal: [], open: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.seal.push(await timed(Readable.from(plaintext(TOTAL, PIECE)), sealOf()));
    runs.open.push(await timed(Readable.from(sealedPieces()), openOf()));
  }
  await pool?.close();
  const cell = (rs) => {
    const wall = median(rs.map((r) => r.wall));
    const cpu = median(rs.map((r) => r.cpuPerGiB));
    const main = median(rs.map((r) => r.main));
    return `${wall.toFixed(0).padStart(9)}  ${cpu.toFixed(2).padStart(9)}  ${(main * 100).toFixed(0).padStart(8)}%`;
  };
  console.log(`${mode.name.padEnd(10)}${cell(runs.seal)}  ${cell(runs.open)}`);
}
