// A node serving its gateways over TLS (--tls-cert/--tls-key, a self-signed certificate made by
// openssl here): aws-cli with --ca-bundle, curl with --cacert, restic with --cacert.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, ok, run } from '../../../packages/gateway/test/clients.js';
import { patternStream, stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, resticRepo, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;
let cert: string;

beforeAll(async () => {
  work = await tempDir('gw-tls');
  cert = join(work, 'cert.pem');
  const key = join(work, 'key.pem');
  await ok('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  c = await startGatewayCluster(['--tls-cert', cert, '--tls-key', key]);
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

test('both gateways are https only, and an unknown certificate is refused', async () => {
  expect(c.s3).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(c.restic).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  // without our certificate, curl does not trust the node
  const untrusted = await run('curl', ['-sS', '-o', '/dev/null', `${c.s3}/`]);
  expect(untrusted.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  // plain HTTP to the TLS port gets no HTTP answer at all
  const plain = await run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    c.s3.replace('https:', 'http:'),
  ]);
  expect([plain.code === 0, plain.stdout]).toEqual([false, '000']);
});

test('aws-cli with --ca-bundle: mb, cp (multipart) and back, ls, presigned GET with curl, rm', async () => {
  const env = await awsEnv(work, c.key);
  const aws = ['--endpoint-url', c.s3, '--ca-bundle', cert];
  const file = join(work, 'f.bin');
  await pipeline(patternStream('tls', 9 * 1024 * 1024), createWriteStream(file));
  await ok('aws', [...aws, 's3', 'mb', 's3://tls-bucket'], { env });
  await ok('aws', [...aws, 's3', 'cp', file, 's3://tls-bucket/dir/f.bin'], { env });
  const back = join(work, 'back.bin');
  await ok('aws', [...aws, 's3', 'cp', 's3://tls-bucket/dir/f.bin', back], { env });
  expect(await sha256(back)).toBe(await sha256(file));
  const ls = await ok('aws', [...aws, 's3', 'ls', '--recursive', 's3://tls-bucket'], { env });
  expect(ls.stdout).toMatch(/\s9437184 dir\/f\.bin/);
  // --no-verify-ssl works as well (aws warns, and answers)
  const unverified = await ok(
    'aws',
    ['--endpoint-url', c.s3, '--no-verify-ssl', 's3', 'ls', 's3://tls-bucket/dir/'],
    { env },
  );
  expect(unverified.stdout).toContain('f.bin');

  const url = (
    await ok('aws', [...aws, 's3', 'presign', 's3://tls-bucket/dir/f.bin'], { env })
  ).stdout.trim();
  expect(url).toMatch(/^https:/);
  const viaCurl = join(work, 'curl.bin');
  await ok('curl', ['-sSf', '--cacert', cert, '-o', viaCurl, url]);
  expect(await sha256(viaCurl)).toBe(await sha256(file));
  // curl's own SigV4 over https
  const listed = await ok('curl', [
    '-sSf',
    '--cacert',
    cert,
    '--aws-sigv4',
    'aws:amz:us-east-1:s3',
    '--user',
    `${c.key.accessKeyId}:${c.key.secretAccessKey}`,
    '-H',
    'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    `${c.s3}/tls-bucket?list-type=2`,
  ]);
  expect(listed.stdout).toContain('<Key>dir/f.bin</Key>');

  await ok('aws', [...aws, 's3', 'rm', 's3://tls-bucket/dir/f.bin'], { env });
  const gone = await run(
    'aws',
    [...aws, 's3api', 'head-object', '--bucket', 'tls-bucket', '--key', 'dir/f.bin'],
    { env },
  );
  expect(gone.code).not.toBe(0);
  expect(gone.stderr).toMatch(/404|Not Found/);
});

test('restic over https with --cacert; curl reads the restic config with basic auth', async () => {
  const src = join(work, 'src');
  await mkdir(src, { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(join(src, `f${i}`), `tls ${i}\n`.repeat(1000 * i));
  const env = {
    RESTIC_REPOSITORY: resticRepo(c, 'tls'),
    RESTIC_PASSWORD: 'pw',
    RESTIC_CACHE_DIR: join(work, 'rc'),
  };
  await ok('restic', ['--cacert', cert, 'init'], { env });
  await ok('restic', ['--cacert', cert, 'backup', src], { env });
  await ok('restic', ['--cacert', cert, 'check', '--read-data'], { env });
  const untrusted = await run('restic', ['snapshots'], { env });
  expect(untrusted.code).not.toBe(0);
  expect(untrusted.stderr).toMatch(/certificate/);
  const cfg = await run('curl', [
    '-sS',
    '--cacert',
    cert,
    '-u',
    `${c.key.accessKeyId}:${c.key.secretAccessKey}`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{size_download}',
    `${c.restic}/tls/config`,
  ]);
  expect(cfg.code).toBe(0);
  const [status, size] = cfg.stdout.split(' ').map(Number);
  expect(status).toBe(200);
  expect(size).toBeGreaterThan(0);
});
