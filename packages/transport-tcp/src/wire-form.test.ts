import { describe, expect, it } from 'vitest';
import { rawPeer, startTransport, waitFor } from '../test/helpers.js';
import { strictDecode } from '../test/strict-cbor.js';

// Frames captured off a real socket, read by the independent strict reader: what a decoder in
// another language sees. Any float where an integer belongs would come back as a CborFloat.
describe('frames on the wire are standard CBOR in preferred form', () => {
  it('HELLO, messages, stream headers and GOAWAY decode strictly, times as integers', async () => {
    const node = await startTransport();
    const raw = await rawPeer(node.address!);
    await waitFor(() => node.peers().length === 1);
    const peerId = node.peers()[0]!.id;
    const { FrameType } = raw;

    const deletedAt = Date.now();
    const tombstone = {
      type: 'tombstone',
      ns: 'ab'.repeat(32),
      id: 'cd'.repeat(32),
      deletedAt,
      origin: node.nodeId,
    };
    await node.send(peerId, tombstone);
    const offer = {
      type: 'store-offer',
      reqId: 'r1',
      size: 5 * 2 ** 32,
      extra: { putAt: deletedAt + 1, chunkSize: 65536, name: 'c2VhbGVk' },
    };
    const w = await node.openStream(peerId, offer);
    w.destroy();
    await waitFor(() => raw.frames.some((f) => f.type === FrameType.OPEN));
    await node.close();
    await raw.closed;

    const payload = (type: number) => raw.frames.find((f) => f.type === type)!.payload;
    expect(strictDecode(payload(FrameType.HELLO))).toEqual({
      magic: 'peerstash',
      v: 1,
      id: node.nodeId,
      listen: node.address,
      nonce: expect.stringMatching(/^[0-9a-f]{16}$/),
      window: node.limits.streamWindow,
      maxFrame: node.limits.maxFrameSize,
      maxStreams: node.limits.maxStreamsPerPeer,
    });
    const msg = strictDecode(payload(FrameType.MSG)) as typeof tombstone;
    expect(msg).toEqual(tombstone);
    expect(Number.isSafeInteger(msg.deletedAt)).toBe(true);
    expect(strictDecode(payload(FrameType.OPEN))).toEqual(offer);
    expect(strictDecode(payload(FrameType.GOAWAY))).toEqual({
      code: 'ERR_CLOSED',
      reason: expect.any(String),
    });
  });
});
