// An aws-chunked encoder for tests (signed or unsigned chunks, optional trailer), the framing
// SDKs send for STREAMING-* payloads, so the server's decoder can be driven byte by byte.

import { createHash, createHmac } from 'node:crypto';

export interface ChunkSigningInput {
  seedSignature: string;
  signingKey: Uint8Array;
  amzDate: string;
  scope: string;
}

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const hmac = (key: Uint8Array, text: string) =>
  createHmac('sha256', key).update(text).digest('hex');

/** The body for `payload` cut into chunks of `sizes` (the rest in one), with a final empty chunk. */
export function encodeChunked(
  payload: Buffer,
  sizes: number[],
  signing?: ChunkSigningInput,
  trailer?: [string, string][],
): Buffer {
  const parts: Buffer[] = [];
  let prev = signing?.seedSignature ?? '';
  let off = 0;
  const chunk = (data: Buffer) => {
    let ext = '';
    if (signing) {
      const h = createHash('sha256').update(data).digest('hex');
      prev = hmac(
        signing.signingKey,
        ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, prev, EMPTY, h].join('\n'),
      );
      ext = `;chunk-signature=${prev}`;
    }
    parts.push(Buffer.from(`${data.length.toString(16)}${ext}\r\n`), data);
    if (data.length > 0) parts.push(Buffer.from('\r\n'));
  };
  for (const n of sizes) {
    if (off >= payload.length) break;
    chunk(payload.subarray(off, off + n));
    off += n;
  }
  if (off < payload.length) chunk(payload.subarray(off));
  chunk(Buffer.alloc(0));
  if (trailer) {
    const lines = trailer.map(([k, v]) => `${k}:${v}\n`).join('');
    for (const [k, v] of trailer) parts.push(Buffer.from(`${k}:${v}\r\n`));
    if (signing) {
      const h = createHash('sha256').update(lines).digest('hex');
      const sig = hmac(
        signing.signingKey,
        ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, prev, h].join('\n'),
      );
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}
