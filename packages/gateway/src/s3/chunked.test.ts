import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeChunked } from '../../test/aws-chunked.js';
import { ChunkedDecoder, type ChunkSigning } from './chunked.js';
import { signingKey } from './sigv4.js';

// AWS's published streaming PUT: 66,560 bytes of 'a' as chunks of 65,536, 1,024 and 0 bytes.
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
// aws-c-auth's trailing-headers test on the same example: first:1st, second:2nd, third:3rd.
const TRAILER_SIG = 'df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c';
const SCOPE = '20130524/us-east-1/s3/aws4_request';

async function awsSigning(): Promise<ChunkSigning> {
  const key = await signingKey('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', {
    scopeDate: '20130524',
    region: 'us-east-1',
    service: 's3',
  });
  return { seedSignature: SEED, signingKey: key, amzDate: '20130524T000000Z', scope: SCOPE };
}

function awsBody(trailer = '', corrupt = false): Buffer {
  const parts: Buffer[] = [];
  [65_536, 1024, 0].forEach((size, i) => {
    const data = Buffer.alloc(size, 'a');
    if (corrupt && size === 1024) data[10] = 0x62;
    parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${SIGS[i]}\r\n`), data);
    if (size > 0) parts.push(Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`${trailer}\r\n`));
  return Buffer.concat(parts);
}

function decodeAll(d: ChunkedDecoder, body: Buffer, cuts: number[] = []): Buffer {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts.sort((a, b) => a - b), body.length]) {
    out.push(...d.push(body.subarray(from, at)));
    from = at;
  }
  d.end();
  return Buffer.concat(out);
}

const encode = (payload: Buffer, sizes: number[], s?: ChunkSigning, trailer?: [string, string]) =>
  encodeChunked(payload, sizes, s, trailer ? [trailer] : undefined);

describe('ChunkedDecoder', () => {
  it('decodes and verifies the AWS signed example, split anywhere', async () => {
    const signing = await awsSigning();
    const body = awsBody();
    const want = Buffer.alloc(66_560, 'a');
    expect(decodeAll(new ChunkedDecoder({ signing }), body).equals(want)).toBe(true);
    for (const cuts of [[1], [85], [86, 87], [65_621, 65_622, 65_623], [body.length - 1]]) {
      expect(decodeAll(new ChunkedDecoder({ signing }), body, cuts).equals(want)).toBe(true);
    }
  });

  it('verifies the AWS signed trailer', async () => {
    const signing = await awsSigning();
    const trailer = `first:1st\r\nsecond:2nd\r\nthird:3rd\r\nx-amz-trailer-signature:${TRAILER_SIG}\r\n`;
    const d = new ChunkedDecoder({ signing, trailers: ['first', 'second', 'third'] });
    expect(decodeAll(d, awsBody(trailer)).length).toBe(66_560);
    expect(d.trailers.get('second')).toBe('2nd');
    const bad = new ChunkedDecoder({ signing, trailers: ['first', 'second', 'third'] });
    expect(() => decodeAll(bad, awsBody(trailer.replace('3rd', '4th')))).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH' }),
    );
  });

  it('refuses a flipped byte, a reordered chain, truncation and trailing junk', async () => {
    const signing = await awsSigning();
    expect(() => decodeAll(new ChunkedDecoder({ signing }), awsBody('', true))).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH' }),
    );
    const body = awsBody();
    for (const cut of [10, 100, 65_621, body.length - 1]) {
      expect(() => decodeAll(new ChunkedDecoder({ signing }), body.subarray(0, cut))).toThrow(
        expect.objectContaining({ code: 'ERR_PROTOCOL' }),
      );
    }
    expect(() =>
      decodeAll(new ChunkedDecoder({ signing }), Buffer.concat([body, Buffer.from('x')])),
    ).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    const other = { ...signing, seedSignature: SIGS[0]! };
    expect(() => decodeAll(new ChunkedDecoder({ signing: other }), body)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH' }),
    );
    // an unsigned chunk where a signed one is due
    expect(() => new ChunkedDecoder({ signing }).push(Buffer.from('4\r\nabcd\r\n'))).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH' }),
    );
  });

  it('bounds line and chunk sizes', () => {
    expect(() => new ChunkedDecoder().push(Buffer.alloc(5000, '1'))).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
    expect(() => new ChunkedDecoder({ maxChunkSize: 100 }).push(Buffer.from('65\r\n'))).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
  });

  it('unsigned chunks with an announced trailer, and a missing or unannounced one', () => {
    const payload = Buffer.from('hello world');
    const body = encode(payload, [5], undefined, ['x-amz-checksum-crc32', 'DUoRhQ==']);
    const d = new ChunkedDecoder({ trailers: ['x-amz-checksum-crc32'] });
    expect(decodeAll(d, body).toString()).toBe('hello world');
    expect(d.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    expect(() =>
      decodeAll(new ChunkedDecoder({ trailers: ['x-amz-checksum-sha256'] }), body),
    ).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
    expect(() => decodeAll(new ChunkedDecoder({}), body)).toThrow(
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    );
  });

  it('decodes any payload, chunking and split points exactly (property)', async () => {
    const signing = await awsSigning();
    await fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (bytes, sizes, cutSeeds, signed) => {
          const payload = Buffer.from(bytes);
          const body = encode(payload, sizes, signed ? signing : undefined);
          const cuts = cutSeeds.map((c) => c % (body.length + 1));
          const d = new ChunkedDecoder(signed ? { signing } : {});
          expect(decodeAll(d, body, cuts).equals(payload)).toBe(true);
          expect(d.decodedLength).toBe(payload.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a body with one byte changed (property)', async () => {
    const signing = await awsSigning();
    await fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, sizes, at, flip) => {
          const body = encode(Buffer.from(bytes), sizes, signing);
          const i = at % body.length;
          body[i] = body[i]! ^ flip;
          let decoded: Buffer | undefined;
          try {
            decoded = decodeAll(new ChunkedDecoder({ signing }), body);
          } catch (err) {
            expect(['ERR_AUTH', 'ERR_PROTOCOL']).toContain((err as { code: string }).code);
            return;
          }
          // Only a change to the hex size's letter case can still decode, and then to the same bytes.
          expect(decoded.equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
