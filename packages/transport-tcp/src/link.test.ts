import { describe, expect, it } from 'vitest';
import { link, nextEvent, rawPeer, startTransport, waitFor } from '../test/helpers.js';
import type { PeerInfo, TcpTransport } from './index.js';

type Disconnect = [PeerInfo, Error & { code: string }];

/** A raw peer past the handshake, plus a well-behaved peer on the same node to prove it is untouched. */
async function setup(limits = {}) {
  const node = await startTransport({ limits });
  const good = await startTransport();
  await link(good, node);
  const raw = await rawPeer(node.address!);
  await waitFor(() => node.peers().length === 2, 20_000, 'raw peer accepted');
  const rawId = node.peers().find((p) => p.id !== good.nodeId)!.id;
  const dropped = nextEvent<Disconnect>(node, 'peer:disconnect', (p) => p.id === rawId);
  return { node, good, raw, dropped };
}

async function stillServes(node: TcpTransport, good: TcpTransport) {
  expect(node.peers().map((p) => p.id)).toEqual([good.nodeId]);
  const got = nextEvent<[string, Record<string, unknown>]>(node, 'message');
  await good.send(node.nodeId, { type: 'after' });
  expect((await got)[1]).toEqual({ type: 'after' });
}

describe('limits and protocol violations close only the offending peer', () => {
  it('a frame header announcing more than maxMessageSize: ERR_PROTOCOL before any payload is read', async () => {
    const { node, good, raw, dropped } = await setup({ maxMessageSize: 4096 });
    const header = Buffer.alloc(9);
    header[0] = raw.FrameType.MSG;
    header.writeUInt32BE(0, 1);
    header.writeUInt32BE(1_000_000_000, 5);
    raw.socket.write(header);
    const [, reason] = await dropped;
    expect(reason.code).toBe('ERR_PROTOCOL');
    expect(await raw.goaway()).toMatchObject({ code: 'ERR_PROTOCOL' });
    await stillServes(node, good);
  });

  it('a DATA frame larger than maxFrameSize: ERR_PROTOCOL', async () => {
    const { node, good, raw, dropped } = await setup({ maxFrameSize: 4096 });
    raw.socket.write(raw.encodeFrame(raw.FrameType.OPEN, 1, raw.encodeCbor({})));
    raw.socket.write(raw.encodeFrame(raw.FrameType.DATA, 1, Buffer.alloc(8192)));
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);
  });

  it('more streams than maxStreamsPerPeer: ERR_PROTOCOL', async () => {
    const { node, good, raw, dropped } = await setup({ maxStreamsPerPeer: 3 });
    node.on('stream', () => {}); // accept and never read
    for (let id = 1; id <= 9; id += 2) {
      raw.socket.write(raw.encodeFrame(raw.FrameType.OPEN, id, raw.encodeCbor({ id })));
    }
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);
  });

  it('DATA beyond the granted credit: ERR_PROTOCOL (a sender cannot grow the reader’s buffer)', async () => {
    const { node, good, raw, dropped } = await setup({ streamWindow: 64 * 1024 });
    node.on('stream', () => {}); // never reads, so grants nothing
    raw.socket.write(raw.encodeFrame(raw.FrameType.OPEN, 1, raw.encodeCbor({})));
    for (let i = 0; i < 5; i++) {
      raw.socket.write(raw.encodeFrame(raw.FrameType.DATA, 1, Buffer.alloc(16 * 1024)));
    }
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);
  });

  it('DATA for a stream that was never opened: ERR_PROTOCOL', async () => {
    const { node, good, raw, dropped } = await setup();
    raw.socket.write(raw.encodeFrame(raw.FrameType.DATA, 7, Buffer.alloc(10)));
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);
  });

  it('a message that is not CBOR (or has no type): ERR_PROTOCOL', async () => {
    const { node, good, raw, dropped } = await setup();
    raw.socket.write(raw.encodeFrame(raw.FrameType.MSG, 0, Buffer.from([0xff, 0xfe, 0x00])));
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);

    const again = await setup();
    again.raw.socket.write(
      again.raw.encodeFrame(again.raw.FrameType.MSG, 0, again.raw.encodeCbor({ kind: 'no type' })),
    );
    expect((await again.dropped)[1].code).toBe('ERR_PROTOCOL');
  });

  it('an unknown frame type: ERR_PROTOCOL', async () => {
    const { node, good, raw, dropped } = await setup();
    const f = raw.encodeFrame(raw.FrameType.PING, 0, Buffer.alloc(8));
    f[0] = 0x42;
    raw.socket.write(f);
    expect((await dropped)[1].code).toBe('ERR_PROTOCOL');
    await stillServes(node, good);
  });

  it('a peer that goes silent (answers no ping) is dropped with ERR_TIMEOUT', async () => {
    const { node, good, raw, dropped } = await setup({ pingIntervalMs: 100, idleTimeoutMs: 1500 });
    // The good peer answers pings itself; the raw one never does.
    expect((await dropped)[1].code).toBe('ERR_TIMEOUT');
    expect(raw.frames.some((f) => f.type === raw.FrameType.PING)).toBe(true);
    await stillServes(node, good);
  });

  it('a ping is answered with a pong carrying the same bytes', async () => {
    const { raw } = await setup();
    const payload = Buffer.from('12345678');
    raw.socket.write(raw.encodeFrame(raw.FrameType.PING, 0, payload));
    await waitFor(() => raw.frames.some((f) => f.type === raw.FrameType.PONG));
    expect(raw.frames.find((f) => f.type === raw.FrameType.PONG)!.payload.equals(payload)).toBe(
      true,
    );
  });

  it('a GOAWAY from the peer removes it with the code it gave', async () => {
    const { node, good, raw, dropped } = await setup();
    raw.socket.write(
      raw.encodeFrame(
        raw.FrameType.GOAWAY,
        0,
        raw.encodeCbor({ code: 'ERR_CLOSED', reason: 'bye' }),
      ),
    );
    expect((await dropped)[1].code).toBe('ERR_CLOSED');
    await stillServes(node, good);
  });
});

describe('a peer that sends but never reads', () => {
  it('a ping flood from a peer that never reads does not grow the node’s memory', async () => {
    const { node, good, raw } = await setup();
    raw.socket.pause();
    const ping = raw.encodeFrame(raw.FrameType.PING, 0, Buffer.alloc(8));
    const batch = Buffer.concat(Array.from({ length: 4096 }, () => ping)); // 4096 pings, 68 KiB
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 300; i++) {
      // ~20 MiB of pings, 1.2 M of them: unanswered PONGs kept in memory would be hundreds of MiB.
      if (!raw.socket.write(batch)) await new Promise((r) => raw.socket.once('drain', r));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
    raw.socket.destroy();
    await waitFor(() => node.peers().length === 1);
    await stillServes(node, good);
  });
});

describe('handshake flood', () => {
  it('sockets past maxPendingHandshakes are dropped on arrival; finished handshakes free their slots', async () => {
    const node = await startTransport({
      limits: { maxPendingHandshakes: 3, handshakeTimeoutMs: 20_000 },
    });
    const silent = await Promise.all([1, 2, 3].map(() => rawPeer(node.address!, null)));
    await new Promise((r) => setTimeout(r, 100));
    const extra = await rawPeer(node.address!, null);
    await extra.closed; // dropped at once, long before the handshake timeout
    for (const s of silent) s.socket.destroy();
    await Promise.all(silent.map((s) => s.closed));
    const good = await startTransport();
    await link(good, node);
  });
});
