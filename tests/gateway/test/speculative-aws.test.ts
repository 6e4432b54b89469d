// aws-cli multipart put through node 0 of a real 3-node cluster (R=2): the object is composed by
// the store begun at part 1 (node 0 says so in its log) and reads back byte for byte (sha256);
// nothing of the upload is left listed.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, ok } from '../../../packages/gateway/test/clients.js';
import { patternStream, stopCluster, tempDir, waitFor } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;

beforeAll(async () => {
  c = await startGatewayCluster(['--log-level', 'debug']);
  work = await tempDir('gw-spec');
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

test('aws s3 cp of 72 MiB (9 parts): composed speculatively, read back whole', async () => {
  const env = await awsEnv(work, c.key);
  const ep = ['--endpoint-url', c.s3];
  const big = join(work, 'big.bin');
  await pipeline(patternStream('spec', 72 * 1024 * 1024), createWriteStream(big));
  await ok('aws', [...ep, 's3', 'mb', 's3://spec'], { env });
  await ok('aws', [...ep, 's3', 'cp', big, 's3://spec/big.bin'], { env });
  const node0 = c.nodes[0]!;
  await waitFor(
    'the speculative completion in the log',
    async () => node0.logs.join('').includes('s3 multipart composed speculatively'),
    10_000,
  );
  const line = node0.logs
    .join('')
    .split('\n')
    .find((l) => l.includes('s3 multipart composed speculatively'))!;
  expect(JSON.parse(line)).toMatchObject({ target: 'spec/big.bin', parts: 9, speculative: true });
  const back = join(work, 'back.bin');
  const other = await ok(
    'aws',
    [...ep, 's3api', 'head-object', '--bucket', 'spec', '--key', 'big.bin'],
    { env },
  );
  expect(JSON.parse(other.stdout).ETag).toMatch(/-9"$/);
  await ok('aws', [...ep, 's3', 'cp', 's3://spec/big.bin', back], { env });
  expect(await sha256(back)).toBe(await sha256(big));
  const uploads = await ok('aws', [...ep, 's3api', 'list-multipart-uploads', '--bucket', 'spec'], {
    env,
  });
  expect(uploads.stdout).not.toContain('UploadId');
});
