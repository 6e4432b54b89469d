import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { link, nextEvent, rawPeer, startTransport, waitFor } from '../test/helpers.js';
import { derivePsk, type PeerInfo, type RejectedInfo, TcpTransport } from './index.js';

type Rejected = [RejectedInfo, Error & { code: string }];

describe('secure channel: TLS 1.2 PSK', () => {
  it('nodes sharing a secret link over TLS and exchange messages and streams', async () => {
    const secret = randomBytes(32);
    const a = await startTransport({ secret });
    const b = await startTransport({ secret });
    await link(a, b);
    const msg = nextEvent<[string, Record<string, unknown>]>(b, 'message');
    await a.send(b.nodeId, { type: 'ping', n: 1 });
    expect((await msg)[1]).toEqual({ type: 'ping', n: 1 });
    const arrived = nextEvent<[string, Record<string, unknown>, NodeJS.ReadableStream]>(
      b,
      'stream',
    );
    const w = await a.openStream(b.nodeId, { type: 'blob' });
    const payload = randomBytes(3 * 1024 * 1024);
    w.end(payload);
    const [, , r] = await arrived;
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it('a wrong secret is refused with ERR_AUTH on both sides; the listener keeps serving good peers', async () => {
    const secret = randomBytes(32);
    const a = await startTransport({ secret });
    const intruder = await startTransport({ secret: randomBytes(32) });
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    await expect(intruder.dial(a.address!)).rejects.toMatchObject({ code: 'ERR_AUTH' });
    expect((await rejected)[1].code).toBe('ERR_AUTH');
    expect(a.peers()).toEqual([]);
    const good = await startTransport({ secret });
    await link(good, a);
    expect(a.peers().map((p: PeerInfo) => p.id)).toEqual([good.nodeId]);
  });

  it('a plain-TCP node dialing a TLS node is refused with ERR_AUTH on both sides', async () => {
    const secret = randomBytes(32);
    const a = await startTransport({ secret });
    const plain = await startTransport();
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    await expect(plain.dial(a.address!)).rejects.toMatchObject({ code: 'ERR_AUTH' });
    expect((await rejected)[1].code).toBe('ERR_AUTH');
    expect(a.peers()).toEqual([]);
    expect(plain.peers()).toEqual([]);
    const good = await startTransport({ secret });
    await link(good, a);
  });

  it('a TLS node dialing a plain node is refused with ERR_AUTH on both sides', async () => {
    const plain = await startTransport();
    const tlsNode = await startTransport({ secret: randomBytes(32) });
    const rejected = nextEvent<Rejected>(plain, 'peer:rejected');
    await expect(tlsNode.dial(plain.address!)).rejects.toMatchObject({ code: 'ERR_AUTH' });
    expect((await rejected)[1].code).toBe('ERR_AUTH');
    expect(plain.peers()).toEqual([]);
    const other = await startTransport();
    await link(other, plain);
  });

  it('a client with the right key but no forward-secret suite cannot connect', async () => {
    const secret = randomBytes(32);
    const a = await startTransport({ secret });
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    const [host, port] = a.address!.split(':');
    const client = tls.connect({
      host,
      port: Number(port),
      ciphers: 'PSK-AES256-GCM-SHA384',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ psk: derivePsk(secret), identity: 'peerstash/v1' }),
    });
    const failed = await new Promise<boolean>((resolve) => {
      client.on('secureConnect', () => resolve(false));
      client.on('error', () => resolve(true));
      client.on('close', () => resolve(true));
    });
    client.destroy();
    expect(failed).toBe(true);
    expect((await rejected)[1].code).toBe('ERR_AUTH');
  });

  it('the PSK is derived from the secret, never the secret itself', () => {
    const secret = randomBytes(32);
    expect(derivePsk(secret).equals(derivePsk(secret))).toBe(true);
    expect(derivePsk(secret).equals(secret)).toBe(false);
    expect(derivePsk(secret)).toHaveLength(32);
  });

  it('a short secret is refused at construction', () => {
    expect(() => new TcpTransport({ nodeId: 'a'.repeat(64), secret: randomBytes(8) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('a listener without a secret warns that links are unauthenticated', async () => {
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn(_o: object, msg?: string) {
        warnings.push(msg ?? '');
      },
      error() {},
    };
    await startTransport({ logger });
    expect(warnings.some((w) => /no cluster secret/.test(w))).toBe(true);
    const quiet: string[] = [];
    await startTransport({
      secret: randomBytes(32),
      logger: { ...logger, warn: (_o, m) => quiet.push(m ?? '') },
    });
    expect(quiet).toEqual([]);
  });
});

describe('application handshake', () => {
  it('a peer speaking another protocol version is refused with ERR_UNSUPPORTED_VERSION', async () => {
    const a = await startTransport();
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    const raw = await rawPeer(a.address!, { v: 2 });
    expect(await raw.goaway()).toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' });
    expect((await rejected)[1].code).toBe('ERR_UNSUPPORTED_VERSION');
    expect(a.peers()).toEqual([]);
    const good = await startTransport();
    await link(good, a);
  });

  it('a socket that never says HELLO is dropped with ERR_TIMEOUT', async () => {
    const a = await startTransport({ limits: { handshakeTimeoutMs: 300 } });
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    const raw = await rawPeer(a.address!, null);
    await raw.closed;
    expect((await rejected)[1].code).toBe('ERR_TIMEOUT');
  });

  it('a frame before HELLO is a protocol error', async () => {
    const a = await startTransport();
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    const raw = await rawPeer(a.address!, null);
    raw.socket.write(raw.encodeFrame(raw.FrameType.MSG, 0, raw.encodeCbor({ type: 'early' })));
    expect(await raw.goaway()).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect((await rejected)[1].code).toBe('ERR_PROTOCOL');
  });

  it('a large frame before HELLO is refused at once, not buffered until the handshake times out', async () => {
    const a = await startTransport({ limits: { handshakeTimeoutMs: 60_000 } });
    const rejected = nextEvent<Rejected>(a, 'peer:rejected');
    const raw = await rawPeer(a.address!, null);
    const header = Buffer.alloc(9);
    header[0] = raw.FrameType.MSG;
    header.writeUInt32BE(1024 * 1024 - 1, 5); // within maxMessageSize, so the header alone passes
    raw.socket.write(header);
    raw.socket.write(Buffer.alloc(64 * 1024));
    expect((await rejected)[1].code).toBe('ERR_PROTOCOL');
    expect(await raw.goaway()).toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('a HELLO that is not from a peerstash node is a protocol error', async () => {
    const a = await startTransport();
    const raw = await rawPeer(a.address!, { magic: 'other' });
    expect(await raw.goaway()).toMatchObject({ code: 'ERR_PROTOCOL' });
    await waitFor(() => a.peers().length === 0);
  });
});
