// S3 multipart through a real 3-node cluster with the parts in node 0's sealed spool: parts are
// not in any catalog, no plaintext on disk, abort and completion leave no files, a restart of
// the gateway node keeps the upload completable, only node 0 can complete it, stale parts are
// swept, tampering is caught.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../packages/gateway/test/harness.js';
import { collect } from '../../../../packages/gateway/test/helpers.js';
import { errorCode, type SendOptions, send } from '../../../../packages/gateway/test/signer.js';
import { PartSpool, SPOOL_DIR } from '../../src/gateway/part-spool.js';
import {
  backendOf,
  type Cluster,
  catalogKeys,
  meshed,
  startCluster,
  startNode,
  stopCluster,
} from './cluster.js';

const MARKER = 'plaintext-marker-that-must-never-reach-the-disk;';
const partBody = (n: number, size: number) =>
  Buffer.from(`${MARKER}${n};`.repeat(Math.ceil(size / (MARKER.length + 3)))).subarray(0, size);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe('FileServerBackend part spool (3 nodes)', () => {
  let c: Cluster;
  let gw: Gateway;
  let keyDir: string;
  const spoolDir = () => join(c.dirs[0]!, SPOOL_DIR);
  const s3 = (o: SendOptions) =>
    send(gw.s3.url, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey }, o);
  const open = async () => {
    gw = await startGateway(await backendOf(c), {
      keyFile: join(keyDir, 'keys.json'),
      minPartSize: 5,
    });
  };
  const spoolFiles = () => new PartSpool({ dir: spoolDir(), vaultKey: c.vaultKey }).files();

  async function startUpload(key: string, parts: Buffer[]) {
    const init = await s3({ method: 'POST', path: `/bkt/${key}`, query: { uploads: '' } });
    expect(init.status).toBe(200);
    const uploadId = tag(init.body.toString(), 'UploadId')!;
    for (const [i, body] of parts.entries()) {
      const r = await s3({
        method: 'PUT',
        path: `/bkt/${key}`,
        query: { partNumber: String(i + 1), uploadId },
        body,
      });
      expect(r.status, r.body.toString()).toBe(200);
      expect(r.headers.etag).toBe(`"${md5(body)}"`);
    }
    return uploadId;
  }

  const complete = (key: string, uploadId: string, parts: Buffer[]) =>
    s3({
      method: 'POST',
      path: `/bkt/${key}`,
      query: { uploadId },
      body: `<CompleteMultipartUpload>${parts
        .map((b, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${md5(b)}"</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`,
    });

  beforeEach(async () => {
    c = await startCluster(3);
    keyDir = await mkdtemp(join(tmpdir(), 'cli-gw-keys-'));
    await open();
    expect((await s3({ method: 'PUT', path: '/bkt' })).status).toBe(200);
  });
  afterEach(async () => {
    await gw.close();
    await stopCluster(c);
    await rm(keyDir, { recursive: true, force: true });
  });

  it('keeps parts out of every catalog and sealed on disk; Complete stores one object', async () => {
    const parts = [partBody(1, 300_000), partBody(2, 200_000), partBody(3, 7)];
    const uploadId = await startUpload('big.bin', parts);
    for (const node of c.nodes) {
      expect((await catalogKeys(node)).filter((k) => k.startsWith('.s3/parts/'))).toEqual([]);
    }
    // the other nodes hold the upload's record only
    const other = await backendOf(c, 1);
    expect((await other.list({ prefix: `.s3/parts/${uploadId}/`, limit: 100 })).entries).toEqual(
      [],
    );
    expect((await other.list({ prefix: '.s3/uploads/', limit: 100 })).entries).toHaveLength(1);

    const files = await spoolFiles();
    expect(files.length).toBe(6); // a sealed data file and a sealed sidecar per part
    for (const f of files) {
      const bytes = await readFile(f);
      expect(bytes.includes(Buffer.from(MARKER.slice(0, 16)))).toBe(false);
      for (const p of parts) expect(bytes.includes(Buffer.from(md5(p)))).toBe(false);
    }
    // a listing above the parts folder merges the spool with the catalog, one item per page
    const gwBackend = await backendOf(c);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await gwBackend.list({
        prefix: '.s3/',
        delimiter: '/',
        limit: 1,
        ...(after ? { after } : {}),
      });
      seen.push(...page.prefixes, ...page.entries.map((e) => e.key));
      after = page.next;
    } while (after !== undefined);
    expect(seen).toEqual(['.s3/buckets/', '.s3/parts/', '.s3/uploads/']);
    const all = await gwBackend.list({ prefix: '', limit: 100 });
    expect(all.entries.filter((e) => e.key.startsWith('.s3/parts/'))).toHaveLength(3);
    const listed = await s3({ path: '/bkt/big.bin', query: { uploadId } });
    expect(listed.body.toString().match(/<PartNumber>/g)).toHaveLength(3);

    const done = await complete('big.bin', uploadId, parts);
    expect(done.status, done.body.toString()).toBe(200);
    expect(errorCode(done)).toBeUndefined();
    expect(await spoolFiles()).toEqual([]);
    // another node reads the whole object from the cluster
    const r = await c.nodes[2]!.read('bkt/big.bin');
    expect((await collect(r.stream)).equals(Buffer.concat(parts))).toBe(true);
    expect(tag(done.body.toString(), 'ETag')).toMatch(/-3&quot;$|-3"$/);
  });

  it('abort removes every spooled file of the upload', async () => {
    const parts = [partBody(1, 100_000), partBody(2, 50)];
    const uploadId = await startUpload('gone.bin', parts);
    expect((await spoolFiles()).length).toBe(4);
    const r = await s3({ method: 'DELETE', path: '/bkt/gone.bin', query: { uploadId } });
    expect(r.status).toBe(204);
    expect(await spoolFiles()).toEqual([]);
    expect(errorCode(await s3({ path: '/bkt/gone.bin', query: { uploadId } }))).toBe(
      'NoSuchUpload',
    );
  });

  it('a restart of the gateway node keeps an upload in progress completable', async () => {
    const parts = [partBody(1, 120_000), partBody(2, 1000)];
    const uploadId = await startUpload('later.bin', parts);
    await gw.close();
    await c.nodes[0]!.stop();
    c.nodes[0] = await startNode(c, c.dirs[0]!, [c.nodes[1]!.address!]);
    await meshed(c.nodes);
    await open();
    const done = await complete('later.bin', uploadId, parts);
    expect(done.status, done.body.toString()).toBe(200);
    expect(errorCode(done)).toBeUndefined();
    const r = await c.nodes[1]!.read('bkt/later.bin');
    expect((await collect(r.stream)).equals(Buffer.concat(parts))).toBe(true);
    expect(await spoolFiles()).toEqual([]);
  }, 90_000); // a node's restart on a loaded machine

  it('another node lists the upload but cannot complete it: its parts are on node 0', async () => {
    const parts = [partBody(1, 64_000), partBody(2, 10)];
    const uploadId = await startUpload('here.bin', parts);
    const otherGw = await startGateway(await backendOf(c, 1), {
      keyFile: join(keyDir, 'other-keys.json'),
      minPartSize: 5,
    });
    try {
      const o = (x: SendOptions) =>
        send(
          otherGw.s3.url,
          { accessKeyId: otherGw.accessKeyId, secretAccessKey: otherGw.secretAccessKey },
          x,
        );
      const uploads = await o({ path: '/bkt', query: { uploads: '' } });
      expect(tag(uploads.body.toString(), 'UploadId')).toBe(uploadId);
      const there = await o({
        method: 'POST',
        path: '/bkt/here.bin',
        query: { uploadId },
        body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${md5(parts[0]!)}"</ETag></Part></CompleteMultipartUpload>`,
      });
      expect(errorCode(there)).toBe('InvalidPart');
    } finally {
      await otherGw.close();
    }
    const done = await complete('here.bin', uploadId, parts);
    expect(errorCode(done)).toBeUndefined();
    expect(
      (await collect((await c.nodes[1]!.read('bkt/here.bin')).stream)).equals(Buffer.concat(parts)),
    ).toBe(true);
  });

  it('fails a tampered part with ERR_INTEGRITY and sweeps parts older than the max age', async () => {
    const backend = await backendOf(c);
    await backend.write(
      '.s3/parts/u/00001',
      (async function* () {
        yield partBody(1, 200_000);
      })(),
    );
    const data = (await spoolFiles()).find((f) => f.endsWith('.data'))!;
    const bytes = await readFile(data);
    bytes[100_000] = bytes[100_000]! ^ 1;
    await writeFile(data, bytes);
    const r = await backend.read('.s3/parts/u/00001');
    await expect(collect(r.stream)).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });

    const later = new PartSpool({
      dir: spoolDir(),
      vaultKey: c.vaultKey,
      now: () => Date.now() + 8 * 24 * 3600_000,
    });
    await later.open();
    expect(await later.stat('.s3/parts/u/00001')).toBeUndefined();
    expect(await later.files()).toEqual([]);
  });
});
