// Hostile requests at the S3 gateway of a real node: a wrong secret, a tampered signature, a
// replayed old request, a truncated or forged aws-chunked body. Each gets S3's error code, no node
// keeps anything of it, and the node goes on serving (S3 and its own status).

import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, run } from '../../../packages/gateway/test/clients.js';
import { pattern } from '../../../packages/gateway/test/helpers.js';
import {
  type Creds,
  errorCode,
  raw,
  send,
  streamingPut,
} from '../../../packages/gateway/test/signer.js';
import {
  blobFiles,
  leftoverTempFiles,
  stopCluster,
  tempDir,
  waitFor,
} from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;
let creds: Creds;
/** Blob ids the cluster held before the hostile requests. */
let idsBefore: Set<string>;

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-hostile');
  creds = c.key;
  expect((await send(c.s3, creds, { method: 'PUT', path: '/safe' })).status).toBe(200);
  const known = await send(c.s3, creds, { method: 'PUT', path: '/safe/known.txt', body: 'known' });
  expect(known.status).toBe(200);
  // known.txt sits on two of the three nodes (R=2) before anything hostile is sent
  await waitFor('known.txt on two nodes', async () => {
    const counts = await Promise.all(c.nodes.map(async (n) => (await blobFiles(n.dir)).length));
    return counts.reduce((a, b) => a + b, 0) >= 2;
  });
  idsBefore = await blobIds();
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

/** The ids of the blobs the cluster holds (a repair may add or trim copies, never ids). */
async function blobIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const n of c.nodes)
    for (const f of await blobFiles(n.dir)) ids.add(basename(f).split('.')[0]!);
  return ids;
}

/** Only known.txt is listed, no node has a new blob or a temp file, and none reads `key`. */
async function nothingKept(key: string): Promise<void> {
  const listing = await send(c.s3, creds, { path: '/safe', query: { 'list-type': '2' } });
  expect(listing.status).toBe(200);
  expect([...listing.body.toString().matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual([
    'known.txt',
  ]);
  for (const n of c.nodes) expect((await n.get(`safe/${key}`)).status).toBe(404);
  // a broken write cleans up after the request has ended: give it a moment
  let ids = new Set<string>();
  let temps: string[] = [];
  await waitFor(
    'no temp files, no new blobs',
    async () => {
      temps = (await Promise.all(c.nodes.map((n) => leftoverTempFiles(n.dir)))).flat();
      ids = await blobIds();
      return temps.length === 0 && [...ids].every((id) => idsBefore.has(id));
    },
    10_000,
  ).catch(() => {});
  expect(temps).toEqual([]);
  expect([...ids].filter((id) => !idsBefore.has(id))).toEqual([]);
}

/** A good request still works, and the node's own API still answers. */
async function stillServes(): Promise<void> {
  const r = await send(c.s3, creds, { path: '/safe/known.txt' });
  expect([r.status, r.body.toString()]).toEqual([200, 'known']);
  const st = await c.nodes[0]!.status();
  expect(st.gateways).toEqual({ s3: c.s3, restic: c.restic });
}

/** Writes a request by hand and closes the socket after `cut` bytes of its body. */
function truncated(url: string, head: string, body: Buffer, cut: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname, () => {
      s.write(head);
      s.end(body.subarray(0, cut));
    });
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
}

function requestHead(method: string, path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

test('a wrong secret: aws-cli and a raw PUT get SignatureDoesNotMatch', async () => {
  const env = await awsEnv(work, { accessKeyId: creds.accessKeyId, secretAccessKey: 'wrong' });
  const body = `${work}/w.txt`;
  await writeFile(body, 'should not land');
  const cp = await run('aws', ['--endpoint-url', c.s3, 's3', 'cp', body, 's3://safe/w.txt'], {
    env,
  });
  expect(cp.code).not.toBe(0);
  expect(cp.stderr).toContain('SignatureDoesNotMatch');
  const wrong = { accessKeyId: creds.accessKeyId, secretAccessKey: 'not-the-secret' };
  const put = await send(c.s3, wrong, { method: 'PUT', path: '/safe/w.txt', body: 'no' });
  expect([put.status, errorCode(put)]).toEqual([403, 'SignatureDoesNotMatch']);
  const unknown = await send(
    c.s3,
    { accessKeyId: 'PSNOSUCHKEY000000000', secretAccessKey: 'x' },
    { method: 'PUT', path: '/safe/w.txt', body: 'no' },
  );
  expect([unknown.status, errorCode(unknown)]).toEqual([403, 'InvalidAccessKeyId']);
  await nothingKept('w.txt');
  await stillServes();
});

test('a tampered signature, or a request changed after signing: SignatureDoesNotMatch', async () => {
  const flip = (auth: string) =>
    auth.replace(/Signature=([0-9a-f])/, (_m, d) => `Signature=${d === '0' ? '1' : '0'}`);
  const tampered = await send(c.s3, creds, {
    method: 'PUT',
    path: '/safe/t.txt',
    body: 'tampered',
    after: (r) => {
      r.headers.authorization = flip(r.headers.authorization!);
    },
  });
  expect([tampered.status, errorCode(tampered)]).toEqual([403, 'SignatureDoesNotMatch']);
  // signed for one key, sent to another
  const moved = await send(c.s3, creds, {
    method: 'PUT',
    path: '/safe/signed-for.txt',
    body: 'moved',
    after: (r) => {
      r.path = '/safe/t.txt';
    },
  });
  expect([moved.status, errorCode(moved)]).toEqual([403, 'SignatureDoesNotMatch']);
  await nothingKept('t.txt');
  await stillServes();
});

test('a replayed old request: RequestTimeTooSkewed, for a read and a write', async () => {
  const old = new Date(Date.now() - 20 * 60 * 1000);
  const get = await send(c.s3, creds, { path: '/safe/known.txt', signingDate: old });
  expect([get.status, errorCode(get)]).toEqual([403, 'RequestTimeTooSkewed']);
  const put = await send(c.s3, creds, {
    method: 'PUT',
    path: '/safe/replayed.txt',
    body: 'replayed',
    signingDate: old,
  });
  expect([put.status, errorCode(put)]).toEqual([403, 'RequestTimeTooSkewed']);
  await nothingKept('replayed.txt');
  await stillServes();
});

test('a truncated or forged aws-chunked body: nothing kept; the intact one is stored', async () => {
  const payload = pattern(1_500_000, 13);
  const put = await streamingPut(c.s3, creds, '/safe/chunked.bin', payload, {
    mode: 'signed',
    chunkSizes: Array(30).fill(64 * 1024),
  });
  const head = requestHead('PUT', put.path, put.headers);
  for (const cut of [10, 700_000, put.body.length - 3]) {
    const answer = await truncated(c.s3, head, put.body, cut);
    // the gateway answers an incomplete body with an error (or closes); never with a 200
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
    await nothingKept('chunked.bin');
  }
  const forged = Buffer.from(put.body);
  forged[900_000] = forged[900_000]! ^ 1;
  const f = await raw(c.s3, 'PUT', put.path, put.headers, forged);
  expect([f.status, errorCode(f)]).toEqual([403, 'SignatureDoesNotMatch']);
  await nothingKept('chunked.bin');
  await stillServes();

  const good = await raw(c.s3, 'PUT', put.path, put.headers, put.body);
  expect(good.status).toBe(200);
  const back = await send(c.s3, creds, { path: '/safe/chunked.bin' });
  expect(back.body.equals(payload)).toBe(true);
  expect((await c.nodes[1]!.get('safe/chunked.bin')).size).toBe(payload.length);
  // what nothingKept looks for does show a stored object
  await waitFor('a new blob id', async () =>
    [...(await blobIds())].some((id) => !idsBefore.has(id)),
  );
  expect((await send(c.s3, creds, { method: 'DELETE', path: '/safe/chunked.bin' })).status).toBe(
    204,
  );
  await nothingKept('chunked.bin');
});
