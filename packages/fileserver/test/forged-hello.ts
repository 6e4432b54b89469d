// A hand-made HELLO on a plain socket, as an attacker on a plain-TCP node's network sends it: any id,
// any listen address, any nonce, and no message after it. CBOR written by hand, not by our codec.

import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { FrameDecoder, FrameType } from '@peerstash/transport-tcp';

/** CBOR of a flat map of text and unsigned integers (RFC 8949 preferred form). */
function cborMap(fields: Record<string, string | number | null>): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  const text = (s: string) => Buffer.concat([head(3, Buffer.byteLength(s)), Buffer.from(s)]);
  const parts = [head(5, Object.keys(fields).length)];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(text(k));
    parts.push(v === null ? Buffer.from([0xf6]) : typeof v === 'number' ? head(0, v) : text(v));
  }
  return Buffer.concat(parts);
}

export interface ForgedHello {
  id?: string;
  listen?: string | null;
  nonce?: string;
}

export interface ForgeResult {
  /** The node opened a link: a message came after its HELLO. */
  linked: boolean;
  /** The GOAWAY code it closed the socket with, if any. */
  goaway: string | undefined;
}

/** A random id and a listen address that passes every check but belongs to no node. */
export function randomHello(i: number): ForgedHello {
  const forms = [
    `192.0.2.${1 + (i % 254)}:${1024 + (i % 60_000)}`,
    `127.0.0.1:${1024 + ((i * 7919) % 60_000)}`,
    `n${i}.peers.example:7400`,
    `[2001:db8::${(i % 0xffff).toString(16)}]:7400`,
  ];
  return { id: randomBytes(32).toString('hex'), listen: forms[i % forms.length]! };
}

/**
 * Sends one HELLO to `addr` and waits until the node answers with a message (the link opened),
 * closes the socket, or `ms` pass; then closes it. Nothing but the HELLO is ever sent.
 */
export function forgeHello(addr: string, hello: ForgedHello, ms = 5000): Promise<ForgeResult> {
  const i = addr.lastIndexOf(':');
  const socket = connect(Number(addr.slice(i + 1)), addr.slice(0, i).replace(/^\[|\]$/g, ''));
  const payload = cborMap({
    magic: 'peerstash',
    v: 1,
    id: hello.id ?? randomBytes(32).toString('hex'),
    listen: hello.listen ?? null,
    nonce: hello.nonce ?? randomBytes(8).toString('hex'),
    window: 256 * 1024,
    maxFrame: 1024 * 1024,
    maxStreams: 64,
  });
  const frame = Buffer.alloc(9 + payload.length);
  frame[0] = FrameType.HELLO;
  frame.writeUInt32BE(payload.length, 5);
  payload.copy(frame, 9);
  const decoder = new FrameDecoder({ maxFrameSize: 1 << 20, maxMessageSize: 1 << 20 });
  return new Promise((resolve) => {
    const result: ForgeResult = { linked: false, goaway: undefined };
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(done, ms);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) {
          if (f.type === FrameType.MSG) result.linked = true;
          if (f.type === FrameType.GOAWAY) {
            const m = /ERR_[A-Z_]+/.exec(Buffer.from(f.payload).toString('latin1'));
            result.goaway = m?.[0];
          }
          if (result.linked || result.goaway) return done();
        }
      } catch {
        done();
      }
    });
  });
}

/** `count` forged HELLOs, `concurrency` at a time; resolves how many the node linked. */
export async function helloFlood(addr: string, count: number, concurrency = 32): Promise<number> {
  let next = 0;
  let linked = 0;
  const worker = async () => {
    while (next < count) {
      const r = await forgeHello(addr, randomHello(next++));
      if (r.linked) linked++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return linked;
}
