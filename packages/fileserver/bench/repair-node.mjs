// One node of the repair bench in its own process. Config is JSON in argv[2]; prints
// { nodeId, address, api, pid } once started and stops cleanly on SIGTERM.
import { pino } from 'pino';
import { FileServer } from '../dist/index.js';

const cfg = JSON.parse(process.argv[2]);
const server = new FileServer({
  dataDir: cfg.dataDir,
  listen: '127.0.0.1:0',
  bootstrap: cfg.bootstrap ?? [],
  replicationFactor: 3,
  clusterSecret: Buffer.from(cfg.clusterSecret, 'base64'),
  // the bench puts real files through the nodes' HTTP API; repair itself needs no vault key
  ...(cfg.vaultKey ? { vaultKey: Buffer.from(cfg.vaultKey, 'base64') } : {}),
  ...(cfg.repairIntervalMs ? { repairIntervalMs: cfg.repairIntervalMs } : {}),
  ...(cfg.repairRateBytesPerSec !== undefined
    ? { repairRateBytesPerSec: cfg.repairRateBytesPerSec }
    : {}),
  apiPort: 0,
  logger: pino({ level: process.env.BENCH_LOG ?? 'warn' }, pino.destination(2)),
});
await server.start();
process.stdout.write(
  `${JSON.stringify({ nodeId: server.nodeId, address: server.address, api: server.apiUrl, pid: process.pid })}\n`,
);
process.on('SIGTERM', () => {
  server.stop().then(() => process.exit(0));
});
