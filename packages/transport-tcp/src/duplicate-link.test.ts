import { describe, expect, it } from 'vitest';
import {
  byteSource,
  digestOf,
  link,
  nextEvent,
  rawPeer,
  startTransport,
  waitFor,
} from '../test/helpers.js';
import type { PeerInfo, TcpTransport } from './index.js';

const ZERO_NONCE = '0000000000000000';

/** Messages both ways still arrive over the one link, so the real peer never lost it. */
async function stillLinked(node: TcpTransport, good: TcpTransport) {
  expect(node.peers().map((p) => p.id)).toEqual([good.nodeId]);
  const atNode = nextEvent<[string, Record<string, unknown>]>(node, 'message');
  await good.send(node.nodeId, { type: 'after' });
  expect((await atNode)[0]).toBe(good.nodeId);
  const atGood = nextEvent<[string, Record<string, unknown>]>(good, 'message');
  await node.send(good.nodeId, { type: 'back' });
  expect((await atGood)[1]).toEqual({ type: 'back' });
}

describe('a second link claiming a linked peer’s id (plain TCP impostor)', () => {
  it('does not replace an established link, even with the lowest nonce', async () => {
    const node = await startTransport({ limits: { handshakeTimeoutMs: 1000 } });
    const good = await startTransport();
    await link(good, node); // dialed by good: the impostor's HELLO would rank on the nonce alone
    await new Promise((r) => setTimeout(r, 1100)); // older than any handshake can take
    const drops: PeerInfo[] = [];
    node.on('peer:disconnect', (p) => drops.push(p));
    good.on('peer:disconnect', (p) => drops.push(p));

    const impostor = await rawPeer(node.address!, {
      id: good.nodeId,
      listen: good.address,
      nonce: ZERO_NONCE,
    });
    expect(await impostor.goaway()).toMatchObject({ code: 'ERR_DUPLICATE_CONNECTION' });
    await stillLinked(node, good);
    expect(drops).toEqual([]);
  });

  it('does not cut a young link that carries a stream; the transfer completes', async () => {
    const node = await startTransport(); // default 10 s handshake: the link is young here
    const good = await startTransport();
    await link(good, node);
    const arrived = nextEvent<[string, unknown, NodeJS.ReadableStream]>(node, 'stream');
    const source = byteSource(8 * 1024 * 1024);
    const w = await good.openStream(node.nodeId, { type: 'blob' });
    const sending = (async () => {
      for await (const chunk of source) {
        if (!w.write(chunk)) await new Promise((r) => w.once('drain', r));
      }
      w.end();
    })();
    const [, , readable] = await arrived;
    const received = digestOf(readable as never);

    const impostor = await rawPeer(node.address!, { id: good.nodeId, nonce: ZERO_NONCE });
    expect(await impostor.goaway()).toMatchObject({ code: 'ERR_DUPLICATE_CONNECTION' });
    await sending;
    expect(await received).toEqual({ digest: source.digest(), bytes: 8 * 1024 * 1024 });
    await stillLinked(node, good);
  });

  it('a link whose peer has gone silent gives way to a new one (a real peer reconnecting)', async () => {
    const node = await startTransport({
      limits: { handshakeTimeoutMs: 200, pingIntervalMs: 100, idleTimeoutMs: 20_000 },
    });
    const first = await rawPeer(node.address!); // never answers a ping
    await waitFor(() => node.peers().length === 1);
    const id = node.peers()[0]!.id;
    await new Promise((r) => setTimeout(r, 400)); // silent for more than two ping intervals
    const replaced = nextEvent<[PeerInfo]>(node, 'peer:connect', () => true, 2000).catch(
      () => null,
    );
    const relinked = nextEvent<[PeerInfo]>(node, 'peer:relink', () => true, 2000);
    const second = await rawPeer(node.address!, { id, nonce: ZERO_NONCE });
    expect(await first.goaway()).toMatchObject({ code: 'ERR_DUPLICATE_CONNECTION' });
    expect(await replaced).toBeNull(); // a swap, not a new peer
    expect((await relinked)[0].id).toBe(id); // reported as one, so requests can be resent
    expect(node.peers()).toHaveLength(1);
    expect(second.frames.some((f) => f.type === second.FrameType.GOAWAY)).toBe(false);
  });
});
