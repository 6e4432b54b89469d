// The S3 server the protocol tests share: one gateway over a disk backend with small parts
// allowed, and a bucket 'lst' of six keys chosen for listing edge cases.

import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { DiskBackend } from './disk-backend.js';
import { type Gateway, startGateway } from './harness.js';
import { removeDir, tempDir } from './helpers.js';
import { type Creds, type SendOptions, send } from './signer.js';

export const LISTED_KEYS = [
  'a.txt',
  'dir/b.txt',
  'dir/c.txt',
  'dir/sub/d.txt',
  'e f+g.txt',
  'z/ü.txt',
];

export const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

export interface ProtocolFixture {
  dir: string;
  gw: Gateway;
  backend: DiskBackend;
  c: Creds;
  s3(o: SendOptions): ReturnType<typeof send>;
  /** Sends and expects 200, returning the body. */
  xml(o: SendOptions): Promise<string>;
}

/** Registers beforeAll/afterAll for one gateway; the fields are set once beforeAll has run. */
export function protocolGateway(): ProtocolFixture {
  const p = {
    s3: (o: SendOptions) => send(p.gw.s3.url, p.c, o),
    async xml(o: SendOptions) {
      const r = await p.s3(o);
      expect(r.status, r.body.toString()).toBe(200);
      return r.body.toString();
    },
  } as ProtocolFixture;
  beforeAll(async () => {
    p.dir = await tempDir('gateway-protocol-');
    p.backend = await new DiskBackend({ root: join(p.dir, 'store') }).open();
    p.gw = await startGateway(p.backend, { keyFile: join(p.dir, 'keys.json'), minPartSize: 1024 });
    p.c = { accessKeyId: p.gw.accessKeyId, secretAccessKey: p.gw.secretAccessKey };
    expect((await p.s3({ method: 'PUT', path: '/lst' })).status).toBe(200);
    for (const k of LISTED_KEYS) {
      expect((await p.s3({ method: 'PUT', path: `/lst/${k}`, body: k })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await p.gw?.close();
    await removeDir(p.dir);
  });
  return p;
}
