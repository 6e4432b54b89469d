// One benchmark node in its own process (so its peak RSS is its own). Config is JSON in argv[2];
// prints { nodeId, address, api } once started and stops cleanly on SIGTERM.
import { pino } from 'pino';
import { FileServer } from '../dist/index.js';

const cfg = JSON.parse(process.argv[2]);
const server = new FileServer({
  dataDir: cfg.dataDir,
  listen: '127.0.0.1:0',
  bootstrap: cfg.bootstrap ?? [],
  replicationFactor: cfg.replicationFactor ?? 3,
  ...(cfg.repairIntervalMs ? { repairIntervalMs: cfg.repairIntervalMs } : {}),
  vaultKey: Buffer.from(cfg.vaultKey, 'base64'),
  ...(cfg.clusterSecret ? { clusterSecret: Buffer.from(cfg.clusterSecret, 'base64') } : {}),
  apiPort: 0,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
await server.start();
process.stdout.write(
  `${JSON.stringify({ nodeId: server.nodeId, address: server.address, api: server.apiUrl, pid: process.pid })}\n`,
);
process.on('SIGTERM', () => {
  server.stop().then(() => process.exit(0));
});
