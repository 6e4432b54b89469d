import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { link, nextEvent, rawPeer, startTransport } from '../test/helpers.js';
import type { RejectedInfo } from './index.js';

type Rejected = [RejectedInfo, Error & { code: string }];

function recordingLogger() {
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = {
    debug() {},
    info() {},
    warn(obj: object, msg?: string) {
      warnings.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' });
    },
    error() {},
  };
  return { logger, warnings };
}

describe('HELLO fields are held to the rules of a peers entry', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a node id that is not 64 hex', { id: 'not-a-node-id' }, /node id/],
    ['an uppercase node id', { id: 'AB'.repeat(32) }, /node id/],
    ['a node id of 128 characters', { id: 'a'.repeat(128) }, /node id/],
    ['a listen address that is not an address', { listen: '!27.0.0.1:47401' }, /listen/],
    ['a listen address without a port', { listen: '127.0.0.1' }, /listen/],
    ['a listen address with port 0', { listen: '127.0.0.1:0' }, /listen/],
    ['a nonce that is not 16 hex', { nonce: '0' }, /nonce/],
  ];

  for (const [what, fields, reason] of cases) {
    it(`${what}: the link is refused (GOAWAY ERR_PROTOCOL) with a logged reason`, async () => {
      const { logger, warnings } = recordingLogger();
      const node = await startTransport({ logger });
      const rejected = nextEvent<Rejected>(node, 'peer:rejected');
      const raw = await rawPeer(node.address!, fields);
      const [, err] = await rejected;
      expect(err.code).toBe('ERR_PROTOCOL');
      expect(err.message).toMatch(reason);
      expect(await raw.goaway()).toMatchObject({ code: 'ERR_PROTOCOL' });
      expect(node.peers()).toEqual([]);
      const logged = warnings.find((w) => w.msg === 'peer rejected');
      expect(logged?.obj).toMatchObject({
        code: 'ERR_PROTOCOL',
        reason: expect.stringMatching(reason),
      });
      // the node goes on serving real peers
      const good = await startTransport();
      await link(good, node);
    });
  }

  it('a well-formed HELLO with a listen address is accepted and reported as announced', async () => {
    const node = await startTransport();
    const id = randomBytes(32).toString('hex');
    const connected = nextEvent<[{ id: string; listenAddr: string }]>(node, 'peer:connect');
    await rawPeer(node.address!, { id, listen: 'node-7.lan:4000' });
    expect((await connected)[0]).toMatchObject({ id, listenAddr: 'node-7.lan:4000' });
  });
});

describe('the transport holds its own fields to the same rules', () => {
  it('refuses a node id or an advertised address a peer would refuse', async () => {
    const { TcpTransport } = await import('./index.js');
    for (const nodeId of ['node-a', 'a'.repeat(63), 'A'.repeat(64)]) {
      expect(() => new TcpTransport({ nodeId })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => new TcpTransport({ nodeId: 'a'.repeat(64), advertise: 'nat:0' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(new TcpTransport({ nodeId: 'a'.repeat(64), advertise: 'nat.lan:4000' }).nodeId).toBe(
      'a'.repeat(64),
    );
  });
});
