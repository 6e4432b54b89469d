// Ranged reads against a full open of the same sealed blob, in the same run: the time to serve
// a byte range (reading and verifying only its records) beside opening the whole file, and RSS.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newEncryptionKey, open, readRange, sealedRange } from '../dist/index.js';
import { sealedFixture } from './fixture.mjs';

const MIB = 1024 * 1024;
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * MIB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PIECE = 65536;

const key = newEncryptionKey();
let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
function sink() {
  let n = 0;
  const w = new Writable({
    highWaterMark: MIB,
    write(chunk, _enc, cb) {
      w.bytes += chunk.length;
      if ((++n & 7) === 0) sampleRss();
      cb();
    },
  });
  w.bytes = 0;
  return w;
}

const sealed = await sealedFixture(key, TOTAL);

// readAt as a file read would serve it: a view of the stored bytes, no copy
let readBytes = 0;
const readAt = async (offset, length) => {
  readBytes += Math.min(length, sealed.length - offset);
  return sealed.subarray(offset, offset + length);
};

async function time(fn) {
  const start = process.hrtime.bigint();
  const bytes = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, bytes };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function fullOpen() {
  const out = sink();
  function* pieces() {
    for (let at = 0; at < sealed.length; at += PIECE) yield sealed.subarray(at, at + PIECE);
  }
  await pipeline(Readable.from(pieces()), open(key), out);
  return out.bytes;
}

async function ranged(start, end) {
  const out = sink();
  await pipeline(readRange(key, readAt, { start, end, plainSize: TOTAL }), out);
  if (out.bytes !== Math.min(end, TOTAL - 1) - start + 1)
    throw new Error('ranged read gave the wrong length');
  return out.bytes;
}

const mid = Math.floor(TOTAL / 2) + 12345;
const cases = [
  ['1 byte in the middle', mid, mid],
  ['64 KiB across a record edge', mid, mid + 65535],
  ['1 MiB in the middle', mid, mid + MIB - 1],
  ['16 MiB in the middle', mid, mid + 16 * MIB - 1],
  ['the last 100 bytes', TOTAL - 100, TOTAL - 1],
];

console.log(
  `@peerstash/crypto range bench — ${TOTAL / MIB} MiB file, 64 KiB records, median of ${ROUNDS}, Node ${process.version}`,
);
const base = process.memoryUsage.rss();
peakRss = base;
const full = [];
for (let i = 0; i < ROUNDS; i++) full.push((await time(fullOpen)).ms);
const fullMs = median(full);
console.log(
  `full open of ${TOTAL / MIB} MiB: ${fullMs.toFixed(1)} ms (${(TOTAL / MIB / (fullMs / 1000)).toFixed(0)} MiB/s)`,
);
console.log(
  'range                          ms      sealed bytes read   vs full open   MiB/s served',
);
for (const [label, start, end] of cases) {
  const runs = [];
  let read = 0;
  for (let i = 0; i < ROUNDS; i++) {
    readBytes = 0;
    runs.push((await time(() => ranged(start, end))).ms);
    read = readBytes;
  }
  const ms = median(runs);
  const plan = sealedRange({ start, end }, TOTAL);
  if (read !== plan.header.length + plan.body.length) throw new Error('read more than the plan');
  console.log(
    `${label.padEnd(30)} ${ms.toFixed(2).padStart(8)}  ${String(read).padStart(18)}   ` +
      `${(ms / fullMs).toExponential(2).padStart(11)}   ${((Math.min(end, TOTAL - 1) - start + 1) / MIB / (ms / 1000)).toFixed(0).padStart(12)}`,
  );
}
console.log(
  `peak RSS growth: ${((Math.max(peakRss, process.memoryUsage.rss()) - base) / MIB).toFixed(1)} MiB`,
);
