// The gateway under benchmark, in its own process so its RSS and CPU are its own: the restic
// and S3 servers over the on-disk test backend. Prints one JSON line when ready; exits on SIGTERM.
import { join } from 'node:path';
import { KeyStore, startResticServer, startS3Server } from './.build/src/index.js';
import { DiskBackend } from './.build/test/disk-backend.js';

const root = process.argv[2];
const compose = process.argv[3] !== 'no-compose';
const backend = await new DiskBackend({ root: join(root, 'store'), compose }).open();
const keys = new KeyStore(join(root, 'keys.json'));
const key = await keys.add();
const s3 = await startS3Server({ backend, credentials: keys, listen: '127.0.0.1:0' });
const restic = await startResticServer({ backend, credentials: keys, listen: '127.0.0.1:0' });
process.stdout.write(
  `${JSON.stringify({ s3: s3.url, restic: restic.port, id: key.accessKeyId, secret: key.secretAccessKey })}\n`,
);
process.on('SIGTERM', async () => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  await Promise.all([s3.close(), restic.close()]);
  process.exit(0);
});
