// Forged HELLOs for the hostile-input scenario, written byte by byte (CBOR and frames by hand, none
// of our code): any id, listen address and nonce, and nothing sent after the HELLO.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const HELLO = 0x09;
const MSG = 0x01;
const GOAWAY = 0x0a;

/** CBOR (RFC 8949 preferred form) of a flat map of text, unsigned integers and null. */
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
  /** The node opened a link: a message followed its HELLO. */
  linked: boolean;
  /** The GOAWAY code it closed the socket with, if any. */
  goaway: string | undefined;
}

/** A random id and an address that passes every check of a peer address but is no node's. */
export function randomHello(i: number): ForgedHello {
  const forms = [
    `192.0.2.${1 + (i % 254)}:${1024 + (i % 60_000)}`,
    `127.0.0.1:${1024 + ((i * 7919) % 60_000)}`,
    `n${i}.peers.example:7400`,
    `[2001:db8::${(i % 0xffff).toString(16)}]:7400`,
  ];
  return { id: randomBytes(32).toString('hex'), listen: forms[i % forms.length]! };
}

/** One HELLO to `addr`; waits for the node's first message, its GOAWAY, a close or `ms`. */
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
  frame[0] = HELLO;
  frame.writeUInt32BE(payload.length, 5);
  payload.copy(frame, 9);
  return new Promise((resolve) => {
    const result: ForgeResult = { linked: false, goaway: undefined };
    let buf = Buffer.alloc(0);
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
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readUInt32BE(5);
        if (len > 1 << 20) return done();
        if (buf.length < 9 + len) return;
        const type = buf[0];
        const body = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === MSG) result.linked = true;
        if (type === GOAWAY) result.goaway = /ERR_[A-Z_]+/.exec(body.toString('latin1'))?.[0];
        if (result.linked || result.goaway) return done();
      }
    });
  });
}

/** `count` forged HELLOs, `concurrency` at a time; resolves how many links the node opened. */
export async function helloFlood(addr: string, count: number, concurrency = 32): Promise<number> {
  let next = 0;
  let linked = 0;
  const worker = async () => {
    while (next < count) {
      if ((await forgeHello(addr, randomHello(next++))).linked) linked++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return linked;
}
