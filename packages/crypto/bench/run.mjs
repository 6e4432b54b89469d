// Throughput of seal and open over generated streams, beside the single-core limits
// OpenSSL measures in the same run (`openssl speed`), with the peak RSS growth of each run.
import { execFileSync } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newEncryptionKey, open, seal } from '../dist/index.js';
import { plaintext as plaintextOf, sealedFixture } from './fixture.mjs';

const MIB = 1024 * 1024;
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * MIB;
const PIECE = Number(process.env.BENCH_PIECE ?? 65536);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

const plaintext = () => plaintextOf(TOTAL, PIECE);

// Reading RSS costs a /proc read, so the sink samples it every 8th write; a timer would
// never fire while a pipeline keeps the event loop busy with stream callbacks.
let peakRss = 0;
let writes = 0;
function sampleRss() {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}
// A clean baseline (run with --expose-gc): garbage left by the previous run is not counted
// as headroom for the next.
function resetRss() {
  globalThis.gc?.();
  const base = process.memoryUsage.rss();
  peakRss = base;
  return base;
}

function sink() {
  const w = new Writable({
    highWaterMark: MIB,
    write(chunk, _enc, cb) {
      w.bytes += chunk.length;
      if ((++writes & 7) === 0) sampleRss();
      cb();
    },
  });
  w.bytes = 0;
  return w;
}

// `openssl speed` divides by user CPU time unless given -elapsed, so the runs here are
// measured the same way (user + system CPU of the whole process, GC and fs threads included,
// which only counts against us) and, for the record, by the wall clock too.
async function timed(makeSource, transform) {
  const out = sink();
  const base = resetRss();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await pipeline(makeSource(), transform, out);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  if (out.bytes === 0) throw new Error('nothing came out');
  return {
    cpu: TOTAL / ((used.user + used.system) / 1e6) / 1e6,
    wall: TOTAL / wall / 1e6,
    rss: (Math.max(peakRss, process.memoryUsage.rss()) - base) / MIB,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (x) => `${x.toFixed(0).padStart(5)} MB/s`;
const pct = (x) => `${(x * 100).toFixed(0).padStart(3)}%`;

function printRow(label, r) {
  console.log(
    `${label.padEnd(7)}${mb(r.ctr)}   ${mb(r.hmac)}   ${mb(r.combined)} ` +
      `${mb(r.seal)} ${pct(r.seal / r.combined)}  ${mb(r.open)} ${pct(r.open / r.combined)}  ` +
      `${mb(r.sealWall)} ${mb(r.openWall)}`,
  );
}

const key = newEncryptionKey();
try {
  // The open runs need a sealed stream to read. It is sealed once into memory and then handed
  // out by a generator in the same piece size, so open pays for no file I/O; the RSS growth of
  // each run is measured from just before it, with this fixture already in the baseline.
  const sealed = await sealedFixture(key, TOTAL, PIECE);
  function* sealedPieces() {
    for (let at = 0; at < sealed.length; at += PIECE) yield sealed.subarray(at, at + PIECE);
  }

  console.log(
    `@peerstash/crypto bench — ${TOTAL / MIB} MiB per run, ${PIECE}-byte pieces in, ` +
      `${ROUNDS} rounds, Node ${process.version}${globalThis.gc ? '' : ' (no --expose-gc)'}`,
  );
  console.log(
    'MB/s per CPU-second (as openssl speed counts), % of combined; wall-clock MB/s after',
  );
  console.log(
    'round  openssl ctr  openssl hmac  combined   seal (cpu)      open (cpu)     seal wall  open wall',
  );
  const rows = [];
  let sealRss = 0;
  let openRss = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const ctr = opensslRate(['-evp', 'aes-256-ctr']);
    const hmac = opensslRate(['-hmac', 'sha256']);
    const combined = 1 / (1 / ctr + 1 / hmac);
    const sealRun = await timed(() => Readable.from(plaintext()), seal(key));
    const openRun = await timed(() => Readable.from(sealedPieces()), open(key));
    sealRss = Math.max(sealRss, sealRun.rss);
    openRss = Math.max(openRss, openRun.rss);
    const row = {
      ctr,
      hmac,
      combined,
      seal: sealRun.cpu,
      open: openRun.cpu,
      sealWall: sealRun.wall,
      openWall: openRun.wall,
    };
    rows.push(row);
    printRow(String(round), row);
  }
  const med = Object.fromEntries(
    Object.keys(rows[0]).map((k) => [k, median(rows.map((r) => r[k]))]),
  );
  printRow('median', med);
  const verdict = (r) => (r >= 0.6 ? 'meets the ≥ 60% target' : 'below the 60% target');
  console.log(
    `seal ${verdict(med.seal / med.combined)}, open ${verdict(med.open / med.combined)} ` +
      '(of 1/(1/ctr + 1/hmac), per CPU-second)',
  );
  console.log(
    `peak RSS growth during a run: seal ${sealRss.toFixed(1)} MiB, open ${openRss.toFixed(1)} MiB ` +
      '(target < 64 MiB)',
  );
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
