import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameType, type FrameTypeValue } from '../src/frame.js';
import type { TcpTransport } from '../src/index.js';
import { encodeCbor } from '../src/message-codec.js';
import { link, startTransport } from './helpers.js';

const faults: unknown[] = [];
const onFault = (err: unknown) => faults.push(err);
beforeAll(() => {
  process.on('unhandledRejection', onFault);
  process.on('uncaughtException', onFault);
});
afterAll(() => {
  process.off('unhandledRejection', onFault);
  process.off('uncaughtException', onFault);
});

/** Writes `pieces` to a fresh connection, half-closes, and resolves once the node has closed it. */
function feed(addr: string, pieces: Uint8Array[]): Promise<boolean> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 15_000);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('connect', () => {
      for (const p of pieces) socket.write(p);
      socket.end();
    });
  });
}

function hello(id: string): Buffer {
  return encodeFrame(
    FrameType.HELLO,
    0,
    encodeCbor({
      magic: 'peerstash',
      v: 1,
      id,
      listen: null,
      nonce: randomBytes(8).toString('hex'),
      window: 65536,
      maxFrame: 65536,
      maxStreams: 8,
    }),
  );
}

const frameArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((d) => encodeFrame(FrameType.MSG, 0, encodeCbor({ ...d, type: 'fuzz' }))),
  fc
    .integer({ min: 0, max: 4 })
    .map((k) => encodeFrame(FrameType.OPEN, 2 * k + 1, encodeCbor({ k }))),
  fc
    .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 2048 }))
    .map(([k, d]) => encodeFrame(FrameType.DATA, 2 * k + 1, d)),
  fc.integer({ min: 0, max: 4 }).map((k) => encodeFrame(FrameType.END, 2 * k + 1)),
  fc
    .integer({ min: 0, max: 4 })
    .map((k) => encodeFrame(FrameType.RESET, 2 * k + 1, Buffer.from('ERR_X'))),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p) => encodeFrame(FrameType.PING, 0, p)),
  fc
    .tuple(fc.integer({ min: 0, max: 12 }), fc.nat(), fc.uint8Array({ maxLength: 64 }))
    .map(([t, id, p]) => encodeFrame(t as FrameTypeValue, id, p)),
);

/** Splits bytes at the given cut points so frames straddle socket writes. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out.filter((b) => b.length > 0);
}

async function checkStillServes(node: TcpTransport) {
  const good = await startTransport();
  await link(good, node);
  await good.close();
}

describe('fuzz: hostile bytes at a listening port', () => {
  it('random bytes and mutated frame sequences never crash the node; every connection is closed', async () => {
    const node = await startTransport({
      limits: {
        handshakeTimeoutMs: 1000,
        maxMessageSize: 8192,
        maxFrameSize: 8192,
        maxStreamsPerPeer: 4,
      },
    });
    node.on('message', () => {});
    node.on('stream', (_f, _h, r) => r.resume());
    const addr = node.address!;
    const rssBefore = process.memoryUsage().rss;
    let connections = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 4096 }), { minLength: 1, maxLength: 3 }),
        async (inputs) => {
          const closed = await Promise.all(inputs.map((bytes) => feed(addr, [bytes])));
          connections += inputs.length;
          expect(closed.every(Boolean)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );

    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.option(fc.nat()),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        async (frames, mutations, truncate, cuts, sameId) => {
          const id = sameId ? 'f'.repeat(64) : randomBytes(32).toString('hex');
          const bytes = Buffer.concat([hello(id), ...frames]);
          for (const [pos, value] of mutations) bytes[pos % bytes.length] = value;
          const input =
            truncate === null ? bytes : bytes.subarray(0, truncate % (bytes.length + 1));
          const closed = await Promise.all([feed(addr, split(input, cuts)), feed(addr, [input])]);
          connections += 2;
          expect(closed).toEqual([true, true]);
        },
      ),
      { numRuns: 300 },
    );

    expect(connections).toBeGreaterThan(750);
    await new Promise((r) => setTimeout(r, 200));
    expect(node.peers()).toEqual([]);
    expect(faults).toEqual([]);
    // Generous: the node holds no state per closed connection; the bound catches leaks of whole buffers.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    await checkStillServes(node);
  });

  it('random bytes at a TLS listener are refused without harm', async () => {
    const secret = randomBytes(32);
    const node = await startTransport({ secret, limits: { handshakeTimeoutMs: 1000 } });
    const addr = node.address!;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          // Something shaped like a TLS record header, then garbage.
          fc
            .tuple(fc.constantFrom(0x15, 0x16, 0x17), fc.uint8Array({ maxLength: 512 }))
            .map(([t, rest]) =>
              Uint8Array.from([t, 3, 3, rest.length >> 8, rest.length & 255, ...rest]),
            ),
        ),
        async (bytes) => {
          expect(await feed(addr, [bytes])).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
    expect(faults).toEqual([]);
    const good = await startTransport({ secret });
    await link(good, node);
  });
});
