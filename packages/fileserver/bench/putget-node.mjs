// One node of the put/get bench in its own process (its CPU, GCs and peak RSS are its own).
// Config is JSON in argv[2]; prints { nodeId, address, api, pid } once started. Over IPC it
// runs an in-process store()/get() of the bench's generated data (no HTTP, no client process)
// and answers { ms } or { ms, sha }; it stops cleanly on SIGTERM.
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { FileServer } from '../dist/index.js';
import { generated } from './putget-data.mjs';

const cfg = JSON.parse(process.argv[2]);
const server = new FileServer({
  dataDir: cfg.dataDir,
  listen: '127.0.0.1:0',
  bootstrap: cfg.bootstrap ?? [],
  replicationFactor: 3,
  // BENCH_REPLICATION_MODE: the put's chain or fan-out (default: the node's, 'auto' = chain here)
  ...(process.env.BENCH_REPLICATION_MODE
    ? { replicationMode: process.env.BENCH_REPLICATION_MODE }
    : {}),
  ...(process.env.BENCH_CRYPTO_THREADS !== undefined
    ? { cryptoThreads: Number(process.env.BENCH_CRYPTO_THREADS) }
    : {}),
  vaultKey: Buffer.from(cfg.vaultKey, 'base64'),
  clusterSecret: Buffer.from(cfg.clusterSecret, 'base64'),
  apiPort: 0,
  // 0: a get without a local copy reads from one holder (the bench's baseline for two)
  ...(cfg.getRangeBytes !== undefined ? { getRangeBytes: cfg.getRangeBytes } : {}),
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
await server.start();
process.stdout.write(
  `${JSON.stringify({ nodeId: server.nodeId, address: server.address, api: server.apiUrl, pid: process.pid })}\n`,
);

process.on('message', async (m) => {
  const t = performance.now();
  try {
    if (m.op === 'store') {
      const out = await server.store(m.key, generated(m.size, m.seed));
      process.send({ id: m.id, ms: performance.now() - t, replicas: out.replicas });
    } else if (m.op === 'get') {
      const h = createHash('sha256');
      for await (const c of await server.get(m.key)) h.update(c);
      process.send({ id: m.id, ms: performance.now() - t, sha: h.digest('hex') });
    }
  } catch (err) {
    process.send({ id: m.id, error: String(err?.stack ?? err) });
  }
});
process.on('SIGTERM', () => {
  server.stop().then(() => process.exit(0));
});
