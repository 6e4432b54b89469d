// Throughput of seal and open over a generated stream, beside the single-core limits
// OpenSSL measures in the same run (`openssl speed`), with peak RSS growth.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newEncryptionKey, open, seal } from '../dist/index.js';

const MIB = 1024 * 1024;
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * MIB;
const PIECE = Number(process.env.BENCH_PIECE ?? 65536);
const SECONDS = process.env.BENCH_OPENSSL_SECONDS ?? '2';

function opensslRate(args) {
  // -mr prints "+F:<n>:<alg>:<bytes per second>" for the one buffer size we ask for.
  const out = execFileSync(
    'openssl',
    ['speed', '-mr', '-seconds', SECONDS, '-bytes', '65536', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const line = out.split('\n').find((l) => l.startsWith('+F:'));
  if (!line) throw new Error(`no result from openssl speed ${args.join(' ')}`);
  return Number(line.split(':').at(-1)) / 1e6;
}

const source = randomBytes(MIB);
function* plaintext() {
  for (let sent = 0; sent < TOTAL; sent += PIECE) {
    const at = sent % MIB;
    yield source.subarray(at, at + Math.min(PIECE, TOTAL - sent));
  }
}

// Reading RSS costs a /proc read, so sample it on a timer rather than per chunk; the
// kernel's lifetime peak (maxRSS) is checked at the end as well.
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 10);
function sink() {
  let bytes = 0;
  const w = new Writable({
    highWaterMark: 1 * MIB,
    write(chunk, _enc, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  w.bytes = () => bytes;
  return w;
}

async function timed(label, makeSource, transform) {
  const out = sink();
  const start = process.hrtime.bigint();
  await pipeline(makeSource(), transform, out);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { label, seconds, mbps: TOTAL / seconds / 1e6, outBytes: out.bytes() };
}

const key = newEncryptionKey();
const dir = mkdtempSync(join(tmpdir(), 'peerstash-crypto-bench-'));
const file = join(dir, 'sealed.psb');
try {
  const ctr = opensslRate(['-evp', 'aes-256-ctr']);
  const hmac = opensslRate(['-hmac', 'sha256']);
  const combined = 1 / (1 / ctr + 1 / hmac);

  // Warm up the JIT and the allocator on a small run before taking the baseline RSS.
  await pipeline(Readable.from([source]), seal(key), sink());
  if (global.gc) global.gc();
  const baseRss = process.memoryUsage.rss();
  peakRss = baseRss;

  const sealRun = await timed('seal', () => Readable.from(plaintext()), seal(key));
  await pipeline(Readable.from(plaintext()), seal(key), createWriteStream(file));
  // The sealed input is read back in 1 MiB blocks: with 64 KiB reads the fs thread-pool
  // round trips alone cap a plain pass-through near the speed being measured.
  const READ = Number(process.env.BENCH_READ ?? MIB);
  const readFile = () => createReadStream(file, { highWaterMark: READ });
  const readRun = await timed('(read sealed file only)', readFile, new PassThrough());
  const openRun = await timed('open', readFile, open(key));
  if (openRun.outBytes !== TOTAL) throw new Error('open produced the wrong length');

  const mb = (x) => `${x.toFixed(0).padStart(6)} MB/s`;
  console.log(
    `@peerstash/crypto bench — ${TOTAL / MIB} MiB, ${PIECE}-byte input pieces, Node ${process.version}`,
  );
  console.log(`openssl aes-256-ctr     ${mb(ctr)}   (openssl speed -evp aes-256-ctr, 64 KiB)`);
  console.log(`openssl hmac sha256     ${mb(hmac)}   (openssl speed -hmac sha256, 64 KiB)`);
  console.log(`combined limit          ${mb(combined)}   1/(1/ctr + 1/hmac)`);
  console.log(
    `${readRun.label.padEnd(24)}${mb(readRun.mbps)}   source of the open run, for reference`,
  );
  for (const run of [sealRun, openRun]) {
    const ratio = run.mbps / combined;
    console.log(
      `${run.label.padEnd(24)}${mb(run.mbps)}   ${(ratio * 100).toFixed(0)}% of combined ${ratio >= 0.6 ? '(target ≥ 60% met)' : '(below 60% target)'}`,
    );
  }
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const growth = (peakRss - baseRss) / MIB;
  console.log(
    `peak RSS growth         ${growth.toFixed(1).padStart(6)} MiB  (base ${(baseRss / MIB).toFixed(0)} MiB, peak ${(peakRss / MIB).toFixed(0)} MiB; target < 64 MiB)`,
  );
} finally {
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });
}
