// One node of the links bench in its own process and network namespace. Config is JSON in
// argv[2]; prints { nodeId, address, pid } once started. Over IPC: store (the bench's generated
// data), get (SHA-256 of the plaintext, and where it came from), drop (delete the local copy
// only), holders, has, peers. Repair rounds are off so dropped copies stay dropped; SIGTERM
// stops it.
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { FileServer } from '../dist/index.js';
import { generated } from './putget-data.mjs';

const cfg = JSON.parse(process.argv[2]);
const server = new FileServer({
  dataDir: cfg.dataDir,
  listen: cfg.listen,
  bootstrap: cfg.bootstrap ?? [],
  replicationFactor: cfg.replicaPeers,
  ...(cfg.replicationMode ? { replicationMode: cfg.replicationMode } : {}),
  vaultKey: Buffer.from(cfg.vaultKey, 'base64'),
  clusterSecret: Buffer.from(cfg.clusterSecret, 'base64'),
  api: false,
  repairIntervalMs: 0,
  scrubIntervalMs: 0,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
await server.start();
process.stdout.write(
  `${JSON.stringify({ nodeId: server.nodeId, address: server.address, pid: process.pid })}\n`,
);

const ops = {
  async store(m) {
    const out = await server.store(m.key, generated(m.size, m.seed));
    return { replicas: out.replicas };
  },
  async get(m) {
    const h = createHash('sha256');
    const r = await server.read(m.key);
    for await (const c of r.stream) h.update(c);
    return { sha: h.digest('hex'), source: r.source };
  },
  async drop(m) {
    return await server.delete(m.key);
  },
  async holders(m) {
    return { holders: (await server.info(m.key, { holders: true })).holders ?? [] };
  },
  async has(m) {
    return { has: await server.has(m.key) };
  },
  async peers() {
    return { peers: (await server.status()).peers.length };
  },
};

process.on('message', async (m) => {
  const t = performance.now();
  try {
    const out = await ops[m.op](m);
    process.send({ id: m.id, ms: performance.now() - t, ...out });
  } catch (err) {
    process.send({ id: m.id, error: String(err?.stack ?? err) });
  }
});
process.on('SIGTERM', () => {
  server.stop().then(() => process.exit(0));
});
