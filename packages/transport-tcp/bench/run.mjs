// Throughput of one 1 GiB stream over loopback: raw node:net pipe (baseline), bare TLS-PSK socket,
// and TcpTransport plain and with a cluster secret. Each case runs in its own child process for its peak RSS.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { derivePsk, PSK_CIPHERS, TcpTransport } from '../dist/index.js';

const TOTAL = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const CHUNK = 64 * 1024;
const LIM = process.env.WIN ? { streamWindow: Number(process.env.WIN) } : {};

async function produce(writable) {
  const chunk = randomBytes(CHUNK);
  let failed;
  writable.on('error', (err) => {
    failed = err;
  });
  let sent = 0;
  while (sent < TOTAL) {
    if (failed) throw failed;
    const n = Math.min(CHUNK, TOTAL - sent);
    sent += n;
    if (!writable.write(n === CHUNK ? chunk : chunk.subarray(0, n))) {
      await new Promise((resolve) => writable.once('drain', resolve));
    }
  }
  writable.end();
}

function consume(readable) {
  return new Promise((resolve, reject) => {
    let n = 0;
    readable.on('data', (c) => {
      n += c.length;
    });
    readable.on('end', () => resolve(n));
    readable.on('error', reject);
  });
}

async function raw() {
  let received;
  const server = net.createServer((s) => {
    received = consume(s);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const t0 = performance.now();
  await produce(client);
  while (!received) await new Promise((r) => setImmediate(r));
  const n = await received;
  const secs = (performance.now() - t0) / 1000;
  server.close();
  return { bytes: n, secs };
}

async function tlsRaw() {
  const psk = derivePsk(randomBytes(32));
  const opts = { ciphers: PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
  let received;
  const server = tls.createServer({ ...opts, dhparam: 'auto', pskCallback: () => psk }, (s) => {
    received = consume(s);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = tls.connect({
    ...opts,
    port: server.address().port,
    host: '127.0.0.1',
    checkServerIdentity: () => undefined,
    pskCallback: () => ({ psk, identity: 'bench' }),
  });
  await new Promise((r) => client.once('secureConnect', r));
  const t0 = performance.now();
  await produce(client);
  while (!received) await new Promise((r) => setImmediate(r));
  const n = await received;
  const secs = (performance.now() - t0) / 1000;
  server.close();
  return { bytes: n, secs };
}

async function transport(secret) {
  const a = new TcpTransport({ nodeId: 'a'.repeat(64), secret, limits: LIM });
  const b = new TcpTransport({ nodeId: 'b'.repeat(64), secret, limits: LIM });
  await b.listen();
  const received = new Promise((resolve) => b.once('stream', (_id, _h, r) => resolve(consume(r))));
  await a.dial(b.address);
  const t0 = performance.now();
  const w = await a.openStream('bench-b', { type: 'bench' });
  await produce(w);
  const n = await received;
  const secs = (performance.now() - t0) / 1000;
  await a.close();
  await b.close();
  return { bytes: n, secs };
}

const CASES = {
  raw: () => raw(),
  'tls-raw': () => tlsRaw(),
  plain: () => transport(undefined),
  tls: () => transport(randomBytes(32)),
};

const which = process.argv[2];
if (which) {
  const cpu0 = process.cpuUsage();
  const r = await CASES[which]();
  const cpu = process.cpuUsage(cpu0);
  if (r.bytes !== TOTAL) throw new Error(`${which}: got ${r.bytes} of ${TOTAL} bytes`);
  console.log(
    JSON.stringify({
      mbps: r.bytes / 1e6 / r.secs,
      // CPU time per GiB moved (both ends run in this process): steadier than MB/s on a busy machine.
      cpuSecPerGiB: (cpu.user + cpu.system) / 1e6 / (r.bytes / 1024 ** 3),
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
} else {
  const self = fileURLToPath(import.meta.url);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const runs = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
  // Each round measures the baseline and every case back to back, and each case is compared with
  // its own round's baseline: on a shared machine the load changes between rounds, not within one.
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(CASES)) {
      const out = spawnSync(process.execPath, [self, name], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${name} failed: ${out.stderr}`);
      runs[name].push(JSON.parse(out.stdout.trim().split('\n').pop()));
    }
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const targets = { plain: 0.7, tls: 0.4 };
  console.log(
    `${TOTAL / 1024 ** 2} MiB stream over loopback, ${rounds} rounds, medians; Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log('case       MB/s   of raw  target  CPU s/GiB  per-round ratios          peak RSS');
  for (const [name, rs] of Object.entries(runs)) {
    const ratios = rs.map((r, i) => r.mbps / runs.raw[i].mbps);
    const target = targets[name] ? `>=${Math.round(targets[name] * 100)}%` : '';
    console.log(
      `${name.padEnd(8)} ${median(rs.map((r) => r.mbps))
        .toFixed(0)
        .padStart(
          6,
        )}  ${(median(ratios) * 100).toFixed(0).padStart(5)}%  ${target.padStart(6)}  ${median(
        rs.map((r) => r.cpuSecPerGiB),
      )
        .toFixed(2)
        .padStart(9)}  ${ratios
        .map((x) => `${(x * 100).toFixed(0)}%`)
        .join(' ')
        .padEnd(19)}  ${Math.max(...rs.map((r) => r.maxRssMiB))
        .toFixed(0)
        .padStart(5)} MiB`,
    );
  }
}
