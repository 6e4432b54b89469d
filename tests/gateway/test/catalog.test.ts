// The gateway and peerstash's own API share one catalog: a bucket is a top-level folder.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, ok } from '../../../packages/gateway/test/clients.js';
import { stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-cat');
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('an object put through S3 is read by another node, and a file put there is read through S3', async () => {
  const env = await awsEnv(work, c.key);
  const ep = ['--endpoint-url', c.s3];
  const body = Buffer.from('through the gateway\n'.repeat(500));
  await writeFile(join(work, 'a.txt'), body);
  await ok('aws', [...ep, 's3', 'mb', 's3://catalog'], { env });
  await ok('aws', [...ep, 's3', 'cp', join(work, 'a.txt'), 's3://catalog/a.txt'], { env });
  const got = await c.nodes[1]!.get('catalog/a.txt');
  expect(got.status).toBe(200);
  expect(got.sha256).toBe(sha(body));
  const native = Buffer.from('through peerstash put\n'.repeat(300));
  expect((await c.nodes[2]!.put('catalog/b.txt', native)).status).toBeLessThan(300);
  await ok('aws', [...ep, 's3', 'cp', 's3://catalog/b.txt', join(work, 'b.txt')], { env });
  expect(sha(await readFile(join(work, 'b.txt')))).toBe(sha(native));
});
