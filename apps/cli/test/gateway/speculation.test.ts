// Speculative composition through a real 3-node cluster: an upload whose parts arrive in order
// (or out of order) completes from the store begun at part 1; a part re-uploaded after it was
// fed, a Complete naming other parts, a paused upload and an Abort all fall back or leave
// nothing — in the catalogs, the nodes' blob stores or the spool. Downloads compared by sha256.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../packages/gateway/test/harness.js';
import { collect } from '../../../../packages/gateway/test/helpers.js';
import {
  errorCode,
  raw,
  type SendOptions,
  send,
  signed,
} from '../../../../packages/gateway/test/signer.js';
import { FileServerBackend } from '../../src/gateway/backend.js';
import { PartSpool, SPOOL_DIR } from '../../src/gateway/part-spool.js';
import { type Cluster, catalogKeys, startCluster, stopCluster, walk } from './cluster.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const PART = 700_000;
/** Where a node keeps its blobs (packages/fileserver/src/data-dir.ts). */
const BLOBS_DIR = 'blobs';

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('speculative multipart composition (3 nodes)', () => {
  let c: Cluster;
  let gw: Gateway;
  let backend: FileServerBackend;
  let keyDir: string;
  const s3 = (o: SendOptions) =>
    send(gw.s3.url, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey }, o);
  const spoolFiles = () =>
    new PartSpool({ dir: join(c.dirs[0]!, SPOOL_DIR), vaultKey: c.vaultKey }).files();
  /** Every blob file of every node (what a store left, committed or not). */
  const blobs = async () =>
    (await Promise.all(c.dirs.map((d) => walk(join(d, BLOBS_DIR)).catch(() => [])))).flat().sort();

  async function open(maxWaitMs = 10_000) {
    const spool = new PartSpool({ dir: join(c.dirs[0]!, SPOOL_DIR), vaultKey: c.vaultKey });
    backend = await new FileServerBackend(c.nodes[0]!, spool, { maxWaitMs }).open();
    gw = await startGateway(backend, { keyFile: join(keyDir, 'keys.json'), minPartSize: 5 });
    expect((await s3({ method: 'PUT', path: '/bkt' })).status).toBe(200);
  }

  async function init(key: string): Promise<string> {
    const r = await s3({ method: 'POST', path: `/bkt/${key}`, query: { uploads: '' } });
    expect(r.status).toBe(200);
    return tag(r.body.toString(), 'UploadId')!;
  }

  async function put(key: string, uploadId: string, n: number, body: Buffer) {
    const r = await s3({
      method: 'PUT',
      path: `/bkt/${key}`,
      query: { partNumber: String(n), uploadId },
      body,
    });
    expect(r.status, r.body.toString()).toBe(200);
    expect(r.headers.etag).toBe(`"${md5(body)}"`);
  }

  async function complete(key: string, uploadId: string, parts: [number, Buffer][]) {
    const r = await s3({
      method: 'POST',
      path: `/bkt/${key}`,
      query: { uploadId },
      body: `<CompleteMultipartUpload>${parts
        .map(([n, b]) => `<Part><PartNumber>${n}</PartNumber><ETag>"${md5(b)}"</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`,
    });
    expect(r.status, r.body.toString()).toBe(200);
    expect(errorCode(r)).toBeUndefined();
    const md5s = Buffer.concat(parts.map(([, b]) => Buffer.from(md5(b), 'hex')));
    const etag = `${createHash('md5').update(md5s).digest('hex')}-${parts.length}`;
    expect(tag(r.body.toString(), 'ETag')).toMatch(new RegExp(`^(&quot;|")${etag}(&quot;|")$`));
    return etag;
  }

  /** The object as another node reads it, and as the gateway lists and serves it. */
  async function expectObject(key: string, bytes: Buffer, etag: string) {
    const r = await c.nodes[2]!.read(`bkt/${key}`);
    expect(sha256(await collect(r.stream))).toBe(sha256(bytes));
    const got = await s3({ path: `/bkt/${key}` });
    expect(sha256(got.body)).toBe(sha256(bytes));
    expect(got.headers.etag).toBe(`"${etag}"`);
    const listed = (await s3({ path: '/bkt', query: { 'list-type': '2' } })).body.toString();
    expect(listed).toContain(`<Key>${key}</Key>`);
    expect(await spoolFiles()).toEqual([]);
    const uploads = await s3({ path: '/bkt', query: { uploads: '' } });
    expect(uploads.body.toString()).not.toContain('<UploadId>');
  }

  beforeEach(async () => {
    c = await startCluster(3);
    keyDir = await mkdtemp(join(tmpdir(), 'cli-gw-spec-keys-'));
  });
  afterEach(async () => {
    await gw?.close();
    await stopCluster(c);
    await rm(keyDir, { recursive: true, force: true });
  });

  it('composes an in-order upload from the store begun at part 1', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3, 4].map((n) => [
      n,
      randomBytes(n === 4 ? 1234 : PART),
    ]);
    const id = await init('in-order.bin');
    for (const [n, b] of parts) await put('in-order.bin', id, n, b);
    // fed while they arrived: nothing is left to stream but what is still on its way
    await until('the parts to be fed', () => backend.speculation(id)?.fed === 4);
    const etag = await complete('in-order.bin', id, [...parts]);
    expect(backend.compositions).toEqual({ speculative: 1, fellBack: 0 });
    await expectObject('in-order.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);

  it('parts sent all at once (as aws-cli does) are held near the store, then fed in order', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, randomBytes(PART)]);
    const id = await init('at-once.bin');
    await Promise.all(parts.map(([n, b]) => put('at-once.bin', id, n, b)));
    const etag = await complete('at-once.bin', id, parts);
    expect(backend.compositions).toEqual({ speculative: 1, fellBack: 0 });
    await expectObject('at-once.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);

  it('feeds parts that arrive out of order from the spool, in order', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3, 4].map((n) => [n, randomBytes(PART)]);
    const id = await init('shuffled.bin');
    for (const i of [2, 0, 3, 1]) await put('shuffled.bin', id, parts[i]![0], parts[i]![1]);
    const etag = await complete('shuffled.bin', id, [...parts]);
    expect(backend.compositions).toEqual({ speculative: 1, fellBack: 0 });
    await expectObject('shuffled.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);

  it('a later part sent alone before the next one goes on to the spool, read from there', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3].map((n) => [n, randomBytes(3 * 1024 * 1024)]);
    const id = await init('later-first.bin');
    await put('later-first.bin', id, 1, parts[0]![1]);
    await until('part 1 to be fed', () => backend.speculation(id)?.fed === 1);
    // part 3 fills its 1 MiB tee before the store (waiting for part 2) reads it: the tee lets go
    // and part 3 spools alone, so a client sending one part at a time never waits on the store
    await put('later-first.bin', id, 3, parts[2]![1]);
    await put('later-first.bin', id, 2, parts[1]![1]);
    const etag = await complete('later-first.bin', id, parts);
    expect(backend.compositions).toEqual({ speculative: 1, fellBack: 0 });
    await expectObject('later-first.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);

  it('a part re-uploaded after it was fed: the object has the new bytes', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3].map((n) => [n, randomBytes(PART)]);
    const id = await init('again.bin');
    for (const [n, b] of parts) await put('again.bin', id, n, b);
    await until('part 2 to be fed', () => (backend.speculation(id)?.fed ?? 0) >= 2);
    parts[1] = [2, randomBytes(PART)];
    await put('again.bin', id, 2, parts[1][1]);
    const etag = await complete('again.bin', id, parts);
    expect(backend.compositions).toEqual({ speculative: 0, fellBack: 1 });
    await expectObject('again.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);

  it('Complete with a subset of the parts makes exactly that object', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3, 4].map((n) => [n, randomBytes(PART)]);
    const id = await init('subset.bin');
    for (const [n, b] of parts) await put('subset.bin', id, n, b);
    await until('the parts to be fed', () => backend.speculation(id)?.fed === 4);
    const chosen = [parts[0]!, parts[1]!, parts[3]!];
    const etag = await complete('subset.bin', id, chosen);
    expect(backend.compositions).toEqual({ speculative: 0, fellBack: 1 });
    await expectObject('subset.bin', Buffer.concat(chosen.map(([, b]) => b)), etag);
    // a prefix fed so far plus spooled parts: the fast path
    const id2 = await init('prefix.bin');
    await put('prefix.bin', id2, 1, parts[0]![1]);
    await until('part 1 to be fed', () => backend.speculation(id2)?.fed === 1);
    await put('prefix.bin', id2, 3, parts[2]![1]);
    const etag2 = await complete('prefix.bin', id2, [parts[0]!, parts[2]!]);
    expect(backend.compositions).toEqual({ speculative: 1, fellBack: 1 });
    await expectObject('prefix.bin', Buffer.concat([parts[0]![1], parts[2]![1]]), etag2);
  }, 60_000);

  it('Complete naming fewer parts while the next one is being fed makes exactly the named ones', async () => {
    await open();
    const parts: [number, Buffer][] = [1, 2, 3].map((n) => [n, randomBytes(PART)]);
    const id = await init('cut.bin');
    await put('cut.bin', id, 1, parts[0]![1]);
    await put('cut.bin', id, 2, parts[1]![1]);
    await until('parts 1 and 2 to be fed', () => backend.speculation(id)?.fed === 2);
    // part 3 arrives slowly: teed into the store, it is mid-feed when Complete comes
    let more: () => void = () => {};
    const rest = new Promise<void>((r) => {
      more = r;
    });
    const third = parts[2]![1];
    const s = await signed(
      gw.s3.url,
      { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
      {
        method: 'PUT',
        path: '/bkt/cut.bin',
        query: { partNumber: '3', uploadId: id },
        headers: { 'content-length': String(third.length) },
        payloadHash: 'UNSIGNED-PAYLOAD',
      },
    );
    const uploading = raw(
      gw.s3.url,
      'PUT',
      s.path,
      s.headers,
      (async function* () {
        yield third.subarray(0, 100_000);
        await rest;
        yield third.subarray(100_000);
      })(),
    ).catch(() => undefined);
    await until('part 3 to be mid-feed', () => backend.speculation(id)?.feeding === 3);
    const t = Date.now();
    const completing = complete('cut.bin', id, parts.slice(0, 2));
    // the rest of part 3 arrives while Complete runs: it must not end up in the object
    setTimeout(more, 100);
    const etag = await completing;
    expect(Date.now() - t).toBeLessThan(10_000); // not left to a stall timeout
    await uploading;
    expect(backend.compositions.speculative).toBe(0);
    await expectObject('cut.bin', Buffer.concat([parts[0]![1], parts[1]![1]]), etag);
  }, 60_000);

  it('Abort mid-way leaves nothing in the catalogs, the blob stores or the spool', async () => {
    await open();
    const before = await blobs();
    const id = await init('gone.bin');
    await put('gone.bin', id, 1, randomBytes(PART));
    await put('gone.bin', id, 2, randomBytes(PART));
    await until('a part to be fed', () => (backend.speculation(id)?.fed ?? 0) >= 1);
    const r = await s3({ method: 'DELETE', path: '/bkt/gone.bin', query: { uploadId: id } });
    expect(r.status).toBe(204);
    expect(backend.speculation(id)).toBeUndefined();
    expect(await spoolFiles()).toEqual([]);
    // the replicas drop their half-received blobs once the stream breaks
    await until('the replicas to drop the aborted blob', async () => {
      return JSON.stringify(await blobs()) === JSON.stringify(before);
    });
    for (const node of c.nodes) {
      expect((await catalogKeys(node)).filter((k) => k.startsWith('bkt/'))).toEqual([]);
    }
    expect(errorCode(await s3({ path: '/bkt/gone.bin' }))).toBe('NoSuchKey');
  }, 60_000);

  it('a paused upload gives up speculating, keeps nothing, and still completes', async () => {
    await open(300);
    const parts: [number, Buffer][] = [1, 2].map((n) => [n, randomBytes(PART)]);
    const id = await init('paused.bin');
    const before = await blobs(); // the upload's record only
    await put('paused.bin', id, 1, parts[0]![1]);
    await until('the speculation to give up', () => backend.speculation(id)?.alive === false);
    await until('the replicas to drop the aborted blob', async () => {
      return JSON.stringify(await blobs()) === JSON.stringify(before);
    });
    for (const node of c.nodes) {
      expect((await catalogKeys(node)).filter((k) => k.startsWith('bkt/'))).toEqual([]);
    }
    await put('paused.bin', id, 2, parts[1]![1]);
    const etag = await complete('paused.bin', id, parts);
    expect(backend.compositions).toEqual({ speculative: 0, fellBack: 1 });
    await expectObject('paused.bin', Buffer.concat(parts.map(([, b]) => b)), etag);
  }, 60_000);
});
