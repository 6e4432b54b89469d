// Test helpers: transports on 127.0.0.1:0 that are always closed after each test, event waits
// with generous timeouts, and a deterministic byte source hashed as it is produced.

import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { type PeerInfo, TcpTransport, type TcpTransportOptions } from '../src/index.js';

const open: TcpTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** A fresh node id (64 hex, the only form a transport accepts). */
export function newNodeId(): string {
  return randomBytes(32).toString('hex');
}

export async function startTransport(
  opts: Partial<TcpTransportOptions> = {},
  listen = true,
): Promise<TcpTransport> {
  const t = new TcpTransport({ nodeId: newNodeId(), ...opts });
  open.push(t);
  if (listen) await t.listen();
  return t;
}

export async function waitFor(
  check: () => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  name: string,
  filter: (...args: T) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`timed out waiting for '${name}'`));
    }, timeoutMs);
    const on = (...args: unknown[]) => {
      if (!filter(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(name, on);
      resolve(args as T);
    };
    emitter.on(name, on);
  });
}

/** Dials b from a and waits until both sides list each other. */
export async function link(a: TcpTransport, b: TcpTransport): Promise<PeerInfo> {
  const info = await a.dial(b.address!);
  await waitFor(
    () => a.peers().some((p) => p.id === b.nodeId) && b.peers().some((p) => p.id === a.nodeId),
    20_000,
    `link ${a.nodeId} <-> ${b.nodeId}`,
  );
  return info;
}

/** A byte source of `total` bytes in uneven chunks, with the SHA-256 of what it produced. */
export function byteSource(total: number) {
  const block = randomBytes(1024 * 1024 + 7919);
  const hash = createHash('sha256');
  let produced = 0;
  const state = {
    get produced() {
      return produced;
    },
    digest: () => hash.digest('hex'),
    async *[Symbol.asyncIterator]() {
      let offset = 0;
      let i = 0;
      while (produced < total) {
        const size = Math.min(total - produced, 16 * 1024 + ((i++ * 7919) % (96 * 1024)));
        if (offset + size > block.length) offset = (offset * 31 + 17) % (block.length - size);
        const chunk = block.subarray(offset, offset + size);
        offset += size;
        produced += size;
        hash.update(chunk);
        yield chunk;
      }
    },
  };
  return state;
}

export async function digestOf(stream: Readable): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
}

/** Resolves with the error a stream fails with, or rejects if it ends cleanly. */
export function streamError(
  stream: Readable | NodeJS.WritableStream,
): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    (stream as Readable).on('error', resolve);
    (stream as Readable).on('end', () => reject(new Error('stream ended cleanly')));
  });
}

/** A hand-driven peer on a plain socket, for feeding a transport frames it would never send itself. */
export async function rawPeer(addr: string, hello: Record<string, unknown> | null = {}) {
  const { connect } = await import('node:net');
  const { encodeFrame, FrameType } = await import('../src/frame.js');
  const { FrameDecoder } = await import('../src/frame-decoder.js');
  const { encodeCbor, decodeCbor } = await import('../src/message-codec.js');
  const [host, port] = [
    addr.slice(0, addr.lastIndexOf(':')),
    Number(addr.slice(addr.lastIndexOf(':') + 1)),
  ];
  const socket = connect({ host, port });
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const decoder = new FrameDecoder({
    maxFrameSize: 16 * 1024 * 1024,
    maxMessageSize: 16 * 1024 * 1024,
  });
  const frames: Array<{ type: number; streamId: number; payload: Buffer }> = [];
  socket.on('data', (c: Buffer) => {
    try {
      frames.push(...decoder.push(c).map((f) => ({ ...f, payload: Buffer.from(f.payload) })));
    } catch {
      socket.destroy();
    }
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  if (hello) {
    socket.write(
      encodeFrame(
        FrameType.HELLO,
        0,
        encodeCbor({
          magic: 'peerstash',
          v: 1,
          id: newNodeId(),
          listen: null,
          nonce: randomBytes(8).toString('hex'),
          window: 256 * 1024,
          maxFrame: 1024 * 1024,
          maxStreams: 64,
          ...hello,
        }),
      ),
    );
  }
  return {
    socket,
    frames,
    closed,
    FrameType,
    encodeFrame,
    encodeCbor,
    /** The GOAWAY the transport sent, decoded, once the socket closed. */
    async goaway(): Promise<Record<string, unknown> | undefined> {
      await closed;
      const g = frames.find((f) => f.type === FrameType.GOAWAY);
      return g && decodeCbor(g.payload);
    },
  };
}
