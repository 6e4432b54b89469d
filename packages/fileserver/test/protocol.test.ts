import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { deriveFileId, deriveNamespace, seal, sealBytes } from '@peerstash/crypto';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { rawPeer, startNode, tempDir, waitFor } from './helpers.js';

// A raw transport speaks the peer protocol to a real node, the way another node would.
describe('peer protocol', () => {
  const vaultKey = randomBytes(32);
  const clusterSecret = randomBytes(32);
  let dir: string;
  let node: FileServer;
  let raw: TcpTransport;
  let peerId: string;
  const messages: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    dir = await tempDir('proto');
    node = await startNode({ dataDir: dir, vaultKey, clusterSecret });
    raw = await rawPeer(clusterSecret, 'f'.repeat(64));
    raw.on('message', (_id, msg) => messages.push(msg as Record<string, unknown>));
    raw.on('stream', (_id, _header, stream) => stream.resume());
    peerId = (await raw.dial(node.address!)).id;
  });
  afterAll(async () => {
    await raw?.close();
    await node?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const reply = (reqId: string) =>
    waitFor(`reply to ${reqId}`, () => messages.some((m) => m.reqId === reqId)).then(
      () => messages.find((m) => m.reqId === reqId)!,
    );

  async function sealed(text: string): Promise<Buffer> {
    const s = seal(vaultKey);
    s.end(Buffer.from(text));
    return Buffer.concat(await s.toArray());
  }

  it('keeps a replica offered with its digest up front, and refuses one that does not match it', async () => {
    const key = 'offered';
    const blob = await sealed('offered with digest');
    const digest = createHash('sha256').update(blob).digest('hex');
    const header = {
      type: 'store-offer',
      ns: deriveNamespace(vaultKey),
      id: deriveFileId(vaultKey, key),
      size: blob.length,
      extra: { name: sealBytes(vaultKey, Buffer.from(key)).toString('base64') },
    };
    const bad = await raw.openStream(peerId, { ...header, reqId: 'bad1', digest: 'a'.repeat(64) });
    bad.end(blob);
    expect(await reply('bad1')).toMatchObject({
      type: 'store-ack',
      ok: false,
      code: 'ERR_INTEGRITY',
    });
    expect(await node.has(key)).toBe(false);

    const good = await raw.openStream(peerId, { ...header, reqId: 'good1', digest });
    good.end(blob);
    expect(await reply('good1')).toMatchObject({ type: 'store-ack', ok: true });
    expect(Buffer.concat(await (await node.get(key)).toArray()).toString()).toBe(
      'offered with digest',
    );
  });

  it('commits a streamed replica only when the store-commit digest matches', async () => {
    const key = 'streamed';
    const blob = await sealed('streamed, digest after');
    const digest = createHash('sha256').update(blob).digest('hex');
    const header = {
      type: 'store-offer',
      ns: deriveNamespace(vaultKey),
      id: deriveFileId(vaultKey, key),
      extra: { name: sealBytes(vaultKey, Buffer.from(key)).toString('base64') },
    };
    const lie = await raw.openStream(peerId, { ...header, reqId: 'lie1' });
    lie.end(blob);
    await once(lie, 'finish');
    await raw.send(peerId, {
      type: 'store-commit',
      reqId: 'lie1',
      digest: 'b'.repeat(64),
      size: blob.length,
    });
    expect(await reply('lie1')).toMatchObject({ ok: false, code: 'ERR_INTEGRITY' });
    expect(await node.has(key)).toBe(false);

    const ok = await raw.openStream(peerId, { ...header, reqId: 'ok1' });
    ok.end(blob);
    await once(ok, 'finish');
    await raw.send(peerId, { type: 'store-commit', reqId: 'ok1', digest, size: blob.length });
    expect(await reply('ok1')).toMatchObject({ ok: true });
    expect(await node.has(key)).toBe(true);
  });

  it('answers a get-request for a missing blob at once, and serves a present one', async () => {
    const ns = deriveNamespace(vaultKey);
    await raw.send(peerId, { type: 'get-request', reqId: 'miss1', ns, id: 'c'.repeat(64) });
    expect(await reply('miss1')).toMatchObject({ type: 'get-response', found: false });
    const streams: Array<Record<string, unknown>> = [];
    raw.on('stream', (_id, header) => streams.push(header));
    await raw.send(peerId, {
      type: 'get-request',
      reqId: 'hit1',
      ns,
      id: deriveFileId(vaultKey, 'streamed'),
    });
    await waitFor('get-response stream', () => streams.some((h) => h.reqId === 'hit1'));
    expect(streams.find((h) => h.reqId === 'hit1')).toMatchObject({
      type: 'get-response',
      found: true,
    });
  });

  it('drops malformed messages and streams, and stays up and linked', async () => {
    for (const msg of [
      { type: 'nope' },
      { type: 'get-request', reqId: '../../x', ns: 'x', id: 'y' },
      { type: 'peers', peers: 'everyone' },
      { type: 'delete', reqId: 'd', ns: 1, id: 2 },
      { type: 'store-ack', reqId: 'unknown', ok: true },
    ]) {
      await raw.send(peerId, msg);
    }
    const s = await raw.openStream(peerId, { type: 'store-offer', reqId: 'r', ns: 'nope' });
    s.on('error', () => {});
    s.end(Buffer.from('x'));
    const st = await node.status();
    expect(st.peers.map((p) => p.id)).toContain('f'.repeat(64));
  });
});
