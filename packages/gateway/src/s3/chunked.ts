// Incremental decoder of aws-chunked bodies: signed chunks (each signature chained to the previous
// one and verified as its chunk ends), unsigned chunks, and trailing headers (signed or not).

import { createHash, type Hash } from 'node:crypto';
import { ProtocolError, SignatureError } from '../errors.js';
import { EMPTY_SHA256, hmacHex, sameHex } from './sigv4.js';

export interface ChunkSigning {
  /** The request's own signature, which the first chunk's chains from. */
  seedSignature: string;
  signingKey: Uint8Array;
  /** The request's x-amz-date and credential scope. */
  amzDate: string;
  scope: string;
}

export interface ChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER); absent for unsigned chunks. */
  signing?: ChunkSigning;
  /** Trailing header names announced in x-amz-trailer (lower case); none → no trailer section. */
  trailers?: string[];
  /** Most bytes in one chunk (default 16 MiB). */
  maxChunkSize?: number;
}

const MAX_LINE = 4096;
const CRLF = Buffer.from('\r\n');

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * `push(bytes)` returns the payload bytes found so far; `end()` throws unless the body was
 * complete. Chunk data is released as it arrives; its signature is checked when the chunk ends,
 * so a consumer commits only after `end()` (the backend's atomic write does exactly that).
 */
export class ChunkedDecoder {
  readonly trailers = new Map<string, string>();
  #state: State = 'header';
  #line: Buffer[] = [];
  #lineSize = 0;
  #remaining = 0;
  #chunkSignature = '';
  #chunkHash: Hash | undefined;
  #previous: string;
  #crlfSeen = 0;
  #total = 0;
  readonly #options: ChunkedOptions;
  readonly #max: number;

  constructor(options: ChunkedOptions = {}) {
    this.#options = options;
    this.#previous = options.signing?.seedSignature ?? '';
    this.#max = options.maxChunkSize ?? 16 * 1024 * 1024;
  }

  /** Payload bytes decoded so far. */
  get decodedLength(): number {
    return this.#total;
  }

  push(input: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    while (buf.length > 0) {
      switch (this.#state) {
        case 'header':
        case 'trailer': {
          const at = buf.indexOf(0x0a);
          const piece = at < 0 ? buf : buf.subarray(0, at + 1);
          this.#lineSize += piece.length;
          if (this.#lineSize > MAX_LINE) throw new ProtocolError('aws-chunked line is too long');
          this.#line.push(piece);
          buf = buf.subarray(piece.length);
          if (at >= 0) this.#onLine(this.#takeLine());
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, buf.length);
          const data = buf.subarray(0, n);
          this.#chunkHash?.update(data);
          this.#remaining -= n;
          this.#total += n;
          out.push(data);
          buf = buf.subarray(n);
          if (this.#remaining === 0) {
            this.#state = 'data-crlf';
            this.#crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf': {
          if (buf[0] !== CRLF[this.#crlfSeen])
            throw new ProtocolError('chunk data is not followed by CRLF');
          buf = buf.subarray(1);
          if (++this.#crlfSeen === 2) {
            this.#verifyChunk();
            this.#state = 'header';
          }
          break;
        }
        case 'done':
          throw new ProtocolError('bytes after the end of an aws-chunked body');
      }
    }
    return out;
  }

  end(): void {
    if (this.#state !== 'done') throw new ProtocolError('aws-chunked body ended early');
  }

  #takeLine(): string {
    const line = Buffer.concat(this.#line).toString('latin1');
    this.#line = [];
    this.#lineSize = 0;
    if (!line.endsWith('\r\n')) throw new ProtocolError('aws-chunked line does not end with CRLF');
    return line.slice(0, -2);
  }

  #onLine(line: string): void {
    if (this.#state === 'trailer') {
      this.#onTrailerLine(line);
      return;
    }
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new ProtocolError('bad aws-chunked size line');
    const size = Number.parseInt(sizeText, 16);
    if (size > this.#max) throw new ProtocolError(`chunk of ${size} bytes is over ${this.#max}`);
    if (this.#options.signing) {
      const sig = extensions.find((x) => x.startsWith('chunk-signature='))?.slice(16) ?? '';
      if (!/^[0-9a-f]{64}$/.test(sig)) throw new SignatureError('chunk has no chunk-signature');
      this.#chunkSignature = sig;
      this.#chunkHash = createHash('sha256');
    }
    if (size > 0) {
      this.#remaining = size;
      this.#state = 'data';
      return;
    }
    // The final, empty chunk, signed like any other; then trailing headers (if announced) and
    // an empty line, which is just the closing CRLF when there are none.
    this.#verifyChunk();
    this.#state = 'trailer';
  }

  #onTrailerLine(line: string): void {
    if (line === '') {
      this.#finishTrailer();
      this.#state = 'done';
      return;
    }
    const at = line.indexOf(':');
    if (at <= 0) throw new ProtocolError('malformed trailing header');
    const name = line.slice(0, at).trim().toLowerCase();
    const value = line.slice(at + 1).trim();
    if (this.trailers.size > 16) throw new ProtocolError('too many trailing headers');
    this.trailers.set(name, value);
  }

  #finishTrailer(): void {
    const wanted = this.#options.trailers ?? [];
    const signing = this.#options.signing;
    for (const name of wanted) {
      if (!this.trailers.has(name)) throw new ProtocolError(`trailing header ${name} is missing`);
    }
    for (const name of this.trailers.keys()) {
      if (name !== 'x-amz-trailer-signature' && !wanted.includes(name)) {
        throw new ProtocolError(`trailing header ${name} was not announced in x-amz-trailer`);
      }
    }
    if (!signing || wanted.length === 0) return;
    const declared = this.trailers.get('x-amz-trailer-signature') ?? '';
    // Hashed in the order sent, as the client's signer saw them.
    const canonical = [...this.trailers]
      .filter(([n]) => n !== 'x-amz-trailer-signature')
      .map(([n, v]) => `${n}:${v}\n`)
      .join('');
    const toSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      signing.amzDate,
      signing.scope,
      this.#previous,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n');
    if (!sameHex(hmacHex(signing.signingKey, toSign), declared)) {
      throw new SignatureError('trailer signature does not match');
    }
  }

  #verifyChunk(): void {
    const signing = this.#options.signing;
    if (!signing) return;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      this.#previous,
      EMPTY_SHA256,
      this.#chunkHash!.digest('hex'),
    ].join('\n');
    const expected = hmacHex(signing.signingKey, toSign);
    if (!sameHex(expected, this.#chunkSignature))
      throw new SignatureError('chunk signature does not match');
    this.#previous = expected;
  }
}

/** Decodes an aws-chunked byte source into its payload, failing on any defect at the end. */
export async function* decodeChunked(
  source: AsyncIterable<Uint8Array>,
  decoder: ChunkedDecoder,
): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    for (const data of decoder.push(piece)) yield data;
  }
  decoder.end();
}
