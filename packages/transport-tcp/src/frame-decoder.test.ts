import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame, FrameType, type FrameTypeValue } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';

const limits = { maxFrameSize: 64 * 1024, maxMessageSize: 16 * 1024 };

function piecesOf(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

describe('FrameDecoder', () => {
  it('decodes frames split at every possible byte boundary', () => {
    const frames = [
      encodeFrame(FrameType.MSG, 0, Buffer.from('a cbor message')),
      encodeFrame(FrameType.OPEN, 1, Buffer.from('hdr')),
      encodeFrame(FrameType.DATA, 1, Buffer.from('0123456789')),
      encodeFrame(FrameType.END, 1),
      encodeFrame(FrameType.PING, 0, Buffer.from('87654321')),
    ];
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder(limits);
      const got = piecesOf(d, [all.subarray(0, cut), all.subarray(cut)]);
      const data = Buffer.concat(
        got.filter((f) => f.type === FrameType.DATA).map((f) => f.payload),
      );
      expect(data.toString()).toBe('0123456789');
      expect(
        got.filter((f) => f.type !== FrameType.DATA).map((f) => [f.type, f.payload.toString()]),
      ).toEqual([
        [FrameType.MSG, 'a cbor message'],
        [FrameType.OPEN, 'hdr'],
        [FrameType.END, ''],
        [FrameType.PING, '87654321'],
      ]);
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('hands DATA payloads through as views of the input, without copying', () => {
    const input = encodeFrame(FrameType.DATA, 3, Buffer.alloc(1000, 7));
    const [f] = new FrameDecoder(limits).push(input);
    expect(f!.payload.buffer).toBe(input.buffer);
    expect(f!.payload.byteLength).toBe(1000);
  });

  it('round-trips random frame sequences split at random points (property)', () => {
    const frameArb = fc.oneof(
      fc
        .uint8Array({ minLength: 1, maxLength: 300 })
        .map((p) => ({ type: FrameType.MSG as FrameTypeValue, streamId: 0, p })),
      fc
        .tuple(fc.integer({ min: 1, max: 9 }), fc.uint8Array({ maxLength: 300 }))
        .map(([id, p]) => ({ type: FrameType.OPEN as FrameTypeValue, streamId: id, p })),
      fc
        .tuple(fc.integer({ min: 1, max: 9 }), fc.uint8Array({ minLength: 1, maxLength: 3000 }))
        .map(([id, p]) => ({ type: FrameType.DATA as FrameTypeValue, streamId: id, p })),
      fc.integer({ min: 1, max: 9 }).map((id) => ({
        type: FrameType.END as FrameTypeValue,
        streamId: id,
        p: new Uint8Array(),
      })),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.nat()).map(([id, n]) => {
        const p = Buffer.alloc(4);
        p.writeUInt32BE(n % 2 ** 32);
        return { type: FrameType.WINDOW as FrameTypeValue, streamId: id, p };
      }),
    );
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.streamId, f.p)));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let last = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(last, p));
            last = p;
          }
          const d = new FrameDecoder(limits);
          // Reassemble: DATA pieces of one frame arrive back to back.
          const out: Array<{ type: number; streamId: number; p: Buffer }> = [];
          let dataLeft = 0;
          const lengths = frames.map((f) => f.p.length);
          let idx = 0;
          for (const f of chunks.flatMap((c) => d.push(c))) {
            if (f.type === FrameType.DATA && dataLeft > 0) {
              out[out.length - 1]!.p = Buffer.concat([out[out.length - 1]!.p, f.payload]);
              dataLeft -= f.payload.length;
              continue;
            }
            while (frames[idx] && frames[idx]!.type === FrameType.DATA && lengths[idx] === 0) idx++;
            out.push({ type: f.type, streamId: f.streamId, p: Buffer.from(f.payload) });
            if (f.type === FrameType.DATA) dataLeft = lengths[idx]! - f.payload.length;
            idx++;
          }
          expect(out.map((f) => [f.type, f.streamId, f.p.toString('hex')])).toEqual(
            frames.map((f) => [f.type, f.streamId, Buffer.from(f.p).toString('hex')]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects an oversized frame from its header alone, before buffering the payload', () => {
    const header = Buffer.alloc(9);
    header[0] = FrameType.DATA;
    header.writeUInt32BE(1, 1);
    header.writeUInt32BE(limits.maxFrameSize + 1, 5);
    expect(() => new FrameDecoder(limits).push(header)).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
    header[0] = FrameType.MSG;
    header.writeUInt32BE(0, 1);
    header.writeUInt32BE(limits.maxMessageSize + 1, 5);
    expect(() => new FrameDecoder(limits).push(header)).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
  });

  it('rejects unknown types, wrong stream ids and wrong control payload sizes', () => {
    const bad = [
      encodeFrame(0x63 as FrameTypeValue, 0, Buffer.from('x')),
      encodeFrame(FrameType.MSG, 5, Buffer.from('x')),
      encodeFrame(FrameType.MSG, 0),
      encodeFrame(FrameType.DATA, 0, Buffer.from('x')),
      encodeFrame(FrameType.END, 1, Buffer.from('x')),
      encodeFrame(FrameType.WINDOW, 1, Buffer.from('xx')),
      encodeFrame(FrameType.PING, 0, Buffer.from('short')),
      encodeFrame(FrameType.PING, 3, Buffer.alloc(8)),
      encodeFrame(FrameType.RESET, 1, Buffer.alloc(100, 65)),
      encodeFrame(FrameType.HELLO, 0, Buffer.alloc(5000)),
    ];
    for (const frame of bad) {
      expect(() => new FrameDecoder(limits).push(frame)).toThrow(
        expect.objectContaining({ code: 'ERR_PROTOCOL' }),
      );
    }
  });

  it('holds at most one incomplete control frame', () => {
    const d = new FrameDecoder(limits);
    const msg = encodeFrame(FrameType.MSG, 0, Buffer.alloc(limits.maxMessageSize, 1));
    d.push(msg.subarray(0, msg.length - 1));
    expect(d.bufferedBytes).toBe(limits.maxMessageSize - 1);
    expect(d.push(msg.subarray(msg.length - 1))).toHaveLength(1);
    expect(d.bufferedBytes).toBe(0);
  });

  it('random bytes either decode or throw ERR_PROTOCOL, never anything else (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder(limits);
        try {
          for (const c of chunks) d.push(Buffer.from(c));
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_PROTOCOL');
        }
        expect(d.bufferedBytes).toBeLessThanOrEqual(limits.maxMessageSize + 9);
      }),
      { numRuns: 500 },
    );
  });
});
