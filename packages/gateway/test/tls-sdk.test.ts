// Over real TLS: the AWS SDK for JavaScript v3 (which sends STREAMING-UNSIGNED-PAYLOAD-TRAILER
// bodies with CRC32 trailers and validates response checksums) and aws-cli (UNSIGNED-PAYLOAD
// over HTTPS), plus restic over HTTPS.

import { readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, ok } from './clients.js';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { bigFile, collect, pattern, removeDir, sha256, tempDir } from './helpers.js';

const MIB = 1024 * 1024;
const crcOf = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};

describe('TLS, the AWS SDK v3 and aws-cli over HTTPS', () => {
  let dir: string;
  let gw: Gateway;
  let backend: DiskBackend;
  let client: S3Client;
  let ca: Buffer;
  /** What the SDK put on the wire, by operation, to show which payload modes it chose. */
  const sent = new Map<string, Record<string, string>>();

  beforeAll(async () => {
    dir = await tempDir('gateway-tls-');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await ok('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
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
    ca = await readFile(cert);
    backend = await new DiskBackend({ root: join(dir, 'store') }).open();
    gw = await startGateway(backend, {
      keyFile: join(dir, 'keys.json'),
      tls: { certPath: cert, keyPath: key },
    });
    expect(gw.s3.url).toMatch(/^https:/);
    client = new S3Client({
      endpoint: gw.s3.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
      requestHandler: { httpsAgent: new Agent({ ca }) },
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sent.set(context.commandName ?? '', { ...headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
  });
  afterAll(async () => {
    client?.destroy();
    await gw?.close();
    await removeDir(dir);
  });

  it('SDK: streamed PutObject with a CRC32 trailer, validated GetObject, multipart with part checksums', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'sdk' }));
    const body = pattern(3 * MIB + 17, 21);
    const put = await client.send(
      new PutObjectCommand({
        Bucket: 'sdk',
        Key: 'stream.bin',
        Body: Readable.from([body]),
        ContentLength: body.length,
      }),
    );
    // the SDK chose the checksum and sent it as a trailer; the server verified and kept it
    expect(sent.get('PutObjectCommand')).toMatchObject({
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    expect(put.ChecksumCRC32).toBe(crcOf(body));
    expect((await backend.stat('sdk/stream.bin'))?.attributes['x-amz-checksum-crc32']).toBe(
      crcOf(body),
    );
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'sdk', Key: 'stream.bin', ChecksumMode: 'ENABLED' }),
    );
    expect(got.ChecksumCRC32).toBe(crcOf(body));
    expect((await collect(got.Body as Readable)).equals(body)).toBe(true);

    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: 'sdk',
        Key: 'mp.bin',
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const parts = [pattern(5 * MIB, 1), pattern(MIB, 2)];
    const done: { PartNumber: number; ETag: string; ChecksumCRC32: string }[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await client.send(
        new UploadPartCommand({
          Bucket: 'sdk',
          Key: 'mp.bin',
          UploadId,
          PartNumber: i + 1,
          Body: Readable.from([p]),
          ContentLength: p.length,
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      expect(r.ChecksumCRC32).toBe(crcOf(p));
      done.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC32: r.ChecksumCRC32! });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'sdk',
        Key: 'mp.bin',
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    const head = await client.send(
      new HeadObjectCommand({ Bucket: 'sdk', Key: 'mp.bin', ChecksumMode: 'ENABLED' }),
    );
    // COMPOSITE: the CRC32 of the parts' CRC32s, then the part count
    const composite = crcOf(Buffer.concat(done.map((d) => Buffer.from(d.ChecksumCRC32, 'base64'))));
    expect(head.ChecksumCRC32).toBe(`${composite}-2`);
    const full = await client
      .send(
        new CreateMultipartUploadCommand({
          Bucket: 'sdk',
          Key: 'full.bin',
          ChecksumAlgorithm: 'CRC32',
          ChecksumType: 'FULL_OBJECT',
        }),
      )
      .catch((err) => err);
    expect(full.name).toBe('NotImplemented');
    expect(head.ContentLength).toBe(6 * MIB);
    expect(head.ETag).toMatch(/-2"$/);
    const mp = await client.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'mp.bin' }));
    expect(sha256(await collect(mp.Body as Readable))).toBe(sha256(Buffer.concat(parts)));

    const list = await client.send(new ListObjectsV2Command({ Bucket: 'sdk' }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['mp.bin', 'stream.bin']);
    const del = await client.send(
      new DeleteObjectsCommand({
        Bucket: 'sdk',
        Delete: { Objects: [{ Key: 'mp.bin' }, { Key: 'stream.bin' }] },
      }),
    );
    expect(del.Deleted?.map((d) => d.Key).sort()).toEqual(['mp.bin', 'stream.bin']);
    expect((await client.send(new ListObjectsV2Command({ Bucket: 'sdk' }))).KeyCount).toBe(0);
  }, 300_000);

  it('aws-cli over HTTPS (unsigned payloads) and restic over HTTPS', async () => {
    const env = { ...(await awsEnv(dir, gw)), AWS_CA_BUNDLE: join(dir, 'cert.pem') };
    const aws = (args: string[]) =>
      ok('aws', ['--endpoint-url', gw.s3.url, ...args], { env, timeoutMs: 600_000 });
    await aws(['s3', 'mb', 's3://tls']);
    const file = join(dir, 'f.bin');
    await bigFile(file, 20 * MIB);
    await aws(['s3', 'cp', file, 's3://tls/f.bin', '--no-progress']);
    await aws(['s3', 'cp', 's3://tls/f.bin', join(dir, 'g.bin'), '--no-progress']);
    expect(sha256(await readFile(join(dir, 'g.bin')))).toBe(sha256(await readFile(file)));

    const src = join(dir, 'src');
    await ok('mkdir', ['-p', src]);
    await writeFile(join(src, 'hello.txt'), 'over TLS\n');
    const renv = {
      RESTIC_PASSWORD: 'pw',
      RESTIC_REPOSITORY: `rest:https://${gw.accessKeyId}:${gw.secretAccessKey}@127.0.0.1:${gw.restic.port}/tls/`,
      RESTIC_CACHE_DIR: join(dir, 'restic-cache'),
    };
    const cacert = ['--cacert', join(dir, 'cert.pem')];
    await ok('restic', [...cacert, 'init'], { env: renv });
    await ok('restic', [...cacert, 'backup', src], { env: renv });
    await ok('restic', [...cacert, 'check', '--read-data'], { env: renv });
    const snaps = JSON.parse(
      (await ok('restic', [...cacert, 'snapshots', '--json'], { env: renv })).stdout,
    );
    expect(snaps).toHaveLength(1);
  }, 600_000);
});
