import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  byteSource,
  digestOf,
  link,
  nextEvent,
  rawPeer,
  startTransport,
  streamError,
  waitFor,
} from '../test/helpers.js';
import type { Message, PeerInfo, TcpTransport } from './index.js';

const MiB = 1024 * 1024;

function collectMessages(t: TcpTransport): Array<[string, Message]> {
  const got: Array<[string, Message]> = [];
  t.on('message', (from, msg) => got.push([from, msg]));
  return got;
}

describe('TcpTransport: messages and peers', () => {
  it('two transports exchange messages both ways and list each other', async () => {
    const a = await startTransport();
    const b = await startTransport();
    const atA = collectMessages(a);
    const atB = collectMessages(b);
    const info = await link(a, b);
    expect(info).toMatchObject({ id: b.nodeId, listenAddr: b.address, outbound: true });
    expect(b.peers()).toEqual([expect.objectContaining({ id: a.nodeId, outbound: false })]);

    await a.send(b.nodeId, { type: 'store-offer', size: 12, digest: Buffer.from('abc') });
    await b.send(a.nodeId, { type: 'get-request', key: 'k', nested: { list: [1, 'two', null] } });
    await waitFor(() => atA.length === 1 && atB.length === 1);
    expect(atB[0]).toEqual([
      a.nodeId,
      { type: 'store-offer', size: 12, digest: Buffer.from('abc') },
    ]);
    expect(atA[0]).toEqual([
      b.nodeId,
      { type: 'get-request', key: 'k', nested: { list: [1, 'two', null] } },
    ]);
  });

  it('five transports in a full mesh: broadcast reaches every peer, streams run between all pairs', async () => {
    const nodes = await Promise.all([1, 2, 3, 4, 5].map(() => startTransport()));
    const inboxes = nodes.map(collectMessages);
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) await nodes[i]!.dial(nodes[j]!.address!);
    }
    await waitFor(() => nodes.every((n) => n.peers().length === 4), 20_000, 'full mesh');

    const counts = await Promise.all(
      nodes.map((n) => n.broadcast({ type: 'hello', from: n.nodeId })),
    );
    expect(counts).toEqual([4, 4, 4, 4, 4]);
    await waitFor(() => inboxes.every((box) => box.length === 4), 20_000, 'broadcasts');
    for (const [i, box] of inboxes.entries()) {
      const senders = box.map(([from, msg]) => {
        expect(msg.from).toBe(from);
        return from;
      });
      expect(new Set(senders)).toEqual(
        new Set(nodes.filter((_, j) => j !== i).map((n) => n.nodeId)),
      );
    }

    // Every node streams 256 KiB + its index to every other node, all at once.
    const received = new Map<string, Promise<{ digest: string; bytes: number }>>();
    for (const n of nodes) {
      n.on('stream', (from, _h, r) => received.set(`${from}->${n.nodeId}`, digestOf(r)));
    }
    const sent = new Map<string, { digest: string; bytes: number }>();
    await Promise.all(
      nodes.flatMap((n, i) =>
        n.peers().map(async (peer) => {
          const src = byteSource(256 * 1024 + i);
          await pipeline(src, await n.openStream(peer.id, { type: 'blob' }));
          sent.set(`${n.nodeId}->${peer.id}`, { digest: src.digest(), bytes: 256 * 1024 + i });
        }),
      ),
    );
    await waitFor(() => received.size === 20, 20_000, 'all 20 streams');
    expect(new Set(received.keys())).toEqual(new Set(sent.keys()));
    for (const [key, got] of received) expect(await got).toEqual(sent.get(key));
  });

  it('a message or a stream with no listener on the receiver crashes nothing', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    await a.send(b.nodeId, { type: 'nobody-listens' });
    const w = await a.openStream(b.nodeId, { type: 'nobody-takes-it' });
    const err = await streamError(w as unknown as Readable);
    expect(err.code).toBe('ERR_STREAM_RESET');
    // The link survives both.
    const atB = collectMessages(b);
    await a.send(b.nodeId, { type: 'still-here' });
    await waitFor(() => atB.length === 1);
  });

  it('a listener that throws does not tear down the link', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const atB = collectMessages(b);
    b.on('message', () => {
      throw new Error('application bug');
    });
    await a.send(b.nodeId, { type: 'one' });
    await a.send(b.nodeId, { type: 'two' });
    await waitFor(() => atB.length === 2);
    expect(b.peers()).toHaveLength(1);
  });

  it('local misuse gets typed errors: unknown peer, oversized message, bad message', async () => {
    const a = await startTransport({ limits: { maxMessageSize: 4096 } });
    const b = await startTransport();
    await link(a, b);
    await expect(a.send('nobody', { type: 'x' })).rejects.toMatchObject({
      code: 'ERR_NOT_CONNECTED',
    });
    await expect(a.openStream('nobody', {})).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
    await expect(a.send(b.nodeId, { type: 'big', blob: Buffer.alloc(8192) })).rejects.toMatchObject(
      {
        code: 'ERR_LIMIT',
      },
    );
    await expect(a.send(b.nodeId, { kind: 'no type' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(a.dial('not-an-address')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(a.peers()).toHaveLength(1);
  });

  it('a send waiting on a peer that stopped reading gives up when its signal fires', async () => {
    const node = await startTransport();
    const raw = await rawPeer(node.address!);
    await waitFor(() => node.peers().length === 1, 20_000, 'raw peer accepted');
    const rawId = node.peers()[0]!.id;
    raw.socket.pause(); // reads nothing more: the node's socket stops draining
    const ac = new AbortController();
    const big = { type: 'bulk', blob: Buffer.alloc(512 * 1024) };
    const sending = (async () => {
      for (let i = 0; i < 10_000; i++) await node.send(rawId, big, { signal: ac.signal });
    })();
    const outcome = sending.then(
      () => 'all sent',
      (err: { code?: string }) => err.code,
    );
    await new Promise((r) => setTimeout(r, 500));
    ac.abort();
    expect(await outcome).toBe('ERR_ABORTED');
    raw.socket.destroy();
  });

  it('dialing a closed port fails with ERR_NOT_CONNECTED', async () => {
    const a = await startTransport();
    const gone = await startTransport();
    const addr = gone.address!;
    await gone.close();
    await expect(a.dial(addr)).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
  });

  it('a listen() that fails to bind can be retried once the port is free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const addr = `127.0.0.1:${(blocker.address() as net.AddressInfo).port}`;
    const t = await startTransport({ listen: addr }, false);
    await expect(t.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise<void>((r) => blocker.close(() => r()));
    expect(await t.listen()).toBe(addr);
    const other = await startTransport();
    await link(other, t);
  });

  it('close() disconnects peers, which see peer:disconnect with ERR_CLOSED', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const gone = nextEvent<[PeerInfo, Error & { code: string }]>(b, 'peer:disconnect');
    await a.close();
    const [peer, reason] = await gone;
    expect(peer.id).toBe(a.nodeId);
    expect(reason.code).toBe('ERR_CLOSED');
    expect(b.peers()).toEqual([]);
    await expect(a.dial(b.address!)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});

describe('TcpTransport: self and duplicate connections', () => {
  it('a node dialing itself is refused with ERR_SELF_CONNECTION and keeps no peer', async () => {
    const a = await startTransport();
    await expect(a.dial(a.address!)).rejects.toMatchObject({ code: 'ERR_SELF_CONNECTION' });
    expect(a.peers()).toEqual([]);
  });

  it('simultaneous dials both ways end with one link, the same one on both sides', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await startTransport();
      const b = await startTransport();
      const [pa, pb] = await Promise.all([a.dial(b.address!), b.dial(a.address!)]);
      expect(pa.id).toBe(b.nodeId);
      expect(pb.id).toBe(a.nodeId);
      await waitFor(() => a.peers().length === 1 && b.peers().length === 1);
      // Give any losing link time to be closed, then check both ends agree on the survivor.
      await new Promise((r) => setTimeout(r, 100));
      const [la] = a.peers();
      const [lb] = b.peers();
      expect(la!.outbound).toBe(!lb!.outbound);
      const lowerDialed = a.nodeId < b.nodeId ? la!.outbound : lb!.outbound;
      expect(lowerDialed).toBe(true);
      const atB = collectMessages(b);
      await a.send(b.nodeId, { type: 'works' });
      await waitFor(() => atB.length === 1);
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('dialing an already connected peer again resolves to one link', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const again = await a.dial(b.address!);
    expect(again.id).toBe(b.nodeId);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.peers()).toHaveLength(1);
    expect(b.peers()).toHaveLength(1);
  });
});

describe('TcpTransport: reconnect', () => {
  it('connect() keeps redialing with backoff until the peer is up, and again after it restarts', async () => {
    const b = await startTransport();
    const addr = b.address!;
    const bId = b.nodeId;
    await b.close();
    const a = await startTransport({ backoff: { minDelayMs: 20, maxDelayMs: 200 } });
    a.connect(addr);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.peers()).toEqual([]);

    const b2 = await startTransport({ nodeId: bId, listen: addr });
    await waitFor(() => a.peers().some((p) => p.id === bId), 20_000, 'first connect');
    await b2.close();
    await waitFor(() => a.peers().length === 0, 20_000, 'disconnect');
    const b3 = await startTransport({ nodeId: bId, listen: addr });
    await waitFor(() => a.peers().some((p) => p.id === bId), 20_000, 'reconnect');
    expect(b3.peers().map((p) => p.id)).toEqual([a.nodeId]);
  });

  it('stopDialing() ends the redials: a peer up afterwards is not dialed; other addresses still are', async () => {
    const gone = await startTransport();
    const kept = await startTransport();
    const [goneAddr, goneId, keptAddr, keptId] = [
      gone.address!,
      gone.nodeId,
      kept.address!,
      kept.nodeId,
    ];
    await Promise.all([gone.close(), kept.close()]);
    const a = await startTransport({ backoff: { minDelayMs: 20, maxDelayMs: 50 } });
    a.connect(goneAddr);
    a.connect(keptAddr);
    await new Promise((r) => setTimeout(r, 200));
    a.stopDialing(goneAddr);
    a.stopDialing('127.0.0.1:1'); // never dialed: nothing to stop
    await startTransport({ nodeId: goneId, listen: goneAddr });
    await startTransport({ nodeId: keptId, listen: keptAddr });
    await waitFor(() => a.peers().some((p) => p.id === keptId), 20_000, 'the kept address');
    await new Promise((r) => setTimeout(r, 500)); // ten times the longest redial delay
    expect(a.peers().map((p) => p.id)).toEqual([keptId]);
  });
});

describe('TcpTransport: streams', () => {
  it('a 100 MiB stream arrives byte-identical (SHA-256)', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(b, 'stream');
    const src = byteSource(100 * MiB);
    const w = await a.openStream(b.nodeId, { type: 'blob', name: 'big' });
    const sending = pipeline(src, w);
    const [from, header, r] = await arrived;
    expect(from).toBe(a.nodeId);
    expect(header).toEqual({ type: 'blob', name: 'big' });
    const [got] = await Promise.all([digestOf(r), sending]);
    expect(got.bytes).toBe(100 * MiB);
    expect(got.digest).toBe(src.digest());
  });

  it('two 50 MiB streams run concurrently on one link, both intact', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const results = new Map<string, Promise<{ digest: string; bytes: number }>>();
    b.on('stream', (_from, header, r) => results.set(String(header.name), digestOf(r)));
    const s1 = byteSource(50 * MiB);
    const s2 = byteSource(50 * MiB);
    const w1 = await a.openStream(b.nodeId, { name: 'one' });
    const w2 = await a.openStream(b.nodeId, { name: 'two' });
    // Both progress: neither finishes before the other has sent a good share.
    let minOtherAtFinish = Number.POSITIVE_INFINITY;
    const p1 = pipeline(s1, w1).then(() => {
      minOtherAtFinish = Math.min(minOtherAtFinish, s2.produced);
    });
    const p2 = pipeline(s2, w2).then(() => {
      minOtherAtFinish = Math.min(minOtherAtFinish, s1.produced);
    });
    await Promise.all([p1, p2]);
    await waitFor(() => results.size === 2);
    const one = await results.get('one')!;
    const two = await results.get('two')!;
    expect(one).toEqual({ digest: s1.digest(), bytes: 50 * MiB });
    expect(two).toEqual({ digest: s2.digest(), bytes: 50 * MiB });
    expect(minOtherAtFinish).toBeGreaterThan(10 * MiB);
  });

  it('a paused reader holds its sender within the window; other streams keep flowing; resume completes', async () => {
    const window = 256 * 1024;
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const streams = new Map<string, Readable>();
    b.on('stream', (_from, header, r) => streams.set(String(header.name), r));

    const slowSrc = byteSource(20 * MiB);
    const slow = await a.openStream(b.nodeId, { name: 'slow' });
    const slowDone = pipeline(slowSrc, slow);
    await waitFor(() => streams.has('slow'));
    const reader = streams.get('slow')!;
    reader.pause();
    // Let the sender run into the window and stall there.
    let last = -1;
    await waitFor(
      () => {
        const now = slowSrc.produced;
        const still = now === last;
        last = now;
        return still && now > 0;
      },
      30_000,
      'sender to stall',
    );
    await new Promise((r) => setTimeout(r, 500));
    // Produced = in the reader's buffers (≤ window + its 64 KiB readable buffer) + the writer's buffer + one chunk.
    const bound = window + 64 * 1024 + 64 * 1024 + 128 * 1024;
    expect(slowSrc.produced).toBeLessThanOrEqual(bound);
    expect(slowSrc.produced).toBeGreaterThan(window / 2);
    const stalledAt = slowSrc.produced;

    // Another stream on the same link is not held by the stalled one.
    const fastSrc = byteSource(8 * MiB);
    const fast = await a.openStream(b.nodeId, { name: 'fast' });
    const fastDone = pipeline(fastSrc, fast);
    await waitFor(() => streams.has('fast'));
    const fastGot = await digestOf(streams.get('fast')!);
    await fastDone;
    expect(fastGot).toEqual({ digest: fastSrc.digest(), bytes: 8 * MiB });
    expect(slowSrc.produced).toBe(stalledAt);

    const slowGot = digestOf(reader);
    reader.resume();
    await slowDone;
    expect(await slowGot).toEqual({ digest: slowSrc.digest(), bytes: 20 * MiB });
  });

  it('a reader that destroys its stream resets the sender with ERR_STREAM_RESET', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    b.on('stream', (_from, _h, r) => {
      r.once('data', () => r.destroy());
    });
    const w = await a.openStream(b.nodeId, { type: 'blob' });
    await expect(pipeline(byteSource(50 * MiB), w)).rejects.toMatchObject({
      code: 'ERR_STREAM_RESET',
    });
    expect(a.peers()).toHaveLength(1);
  });

  it('a sender that destroys its stream makes the reader fail, not end', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(b, 'stream');
    const w = await a.openStream(b.nodeId, { type: 'blob' });
    w.write(Buffer.alloc(1000));
    const [, , r] = await arrived;
    const failed = streamError(r);
    r.resume();
    w.destroy(new Error('changed my mind'));
    expect((await failed).code).toBe('ERR_STREAM_RESET');
  });

  it('an aborted signal resets an open stream', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(b, 'stream');
    const ac = new AbortController();
    const w: Writable = await a.openStream(b.nodeId, { type: 'blob' }, { signal: ac.signal });
    w.write(Buffer.alloc(10));
    const [, , r] = await arrived;
    const failed = streamError(r);
    r.resume();
    ac.abort();
    expect((await failed).code).toBe('ERR_STREAM_RESET');
    await expect(a.openStream(b.nodeId, {}, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('streams past the peer limit are refused locally with ERR_LIMIT; closing one frees a slot', async () => {
    const a = await startTransport();
    const b = await startTransport({ limits: { maxStreamsPerPeer: 2 } });
    await link(a, b);
    b.on('stream', (_f, _h, r) => r.resume());
    const w1 = await a.openStream(b.nodeId, {});
    await a.openStream(b.nodeId, {});
    await expect(a.openStream(b.nodeId, {})).rejects.toMatchObject({ code: 'ERR_LIMIT' });
    w1.end();
    await new Promise<void>((r) => w1.once('finish', () => r()));
    const w3 = await a.openStream(b.nodeId, {});
    w3.end(Buffer.from('ok'));
  });

  it('many tiny writes (coalesced into frames) arrive complete and in order', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(b, 'stream');
    const w = await a.openStream(b.nodeId, { type: 'tiny' });
    const parts: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) parts.push(Buffer.from(`${i},`));
    const sending = pipeline(parts, w);
    const [, , r] = await arrived;
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    await sending;
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true);
  });

  it('a stream ended with no bytes arrives as an empty, complete stream', async () => {
    const a = await startTransport();
    const b = await startTransport();
    await link(a, b);
    const arrived = nextEvent<[string, Record<string, unknown>, Readable]>(b, 'stream');
    const w = await a.openStream(b.nodeId, { empty: true });
    w.end();
    const [, header, r] = await arrived;
    expect(header).toEqual({ empty: true });
    expect((await digestOf(r)).bytes).toBe(0);
  });
});

describe('TcpTransport: keep-alive', () => {
  it('an idle link stays up through pings', async () => {
    // Idle timeout well above a loaded machine's event-loop stalls; the wait is twice as long,
    // so the link survives only because pings keep it alive.
    const limits = { pingIntervalMs: 50, idleTimeoutMs: 1500 };
    const a = await startTransport({ limits });
    const b = await startTransport({ limits });
    await link(a, b);
    await new Promise((r) => setTimeout(r, 3000));
    expect(a.peers()).toHaveLength(1);
    expect(b.peers()).toHaveLength(1);
  });
});
