// The body of a PutObject or UploadPart as a byte source for the backend: aws-chunked decoding,
// size bounds, and every digest the client asked for (MD5, SHA-256, x-amz-checksum-*) checked
// once the bytes have all arrived, before the backend commits.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PayloadMode } from './auth.js';
import {
  algorithmOfHeader,
  algorithmOfName,
  type ChecksumAlgorithm,
  createChecksum,
} from './checksums.js';
import { ChunkedDecoder, decodeChunked } from './chunked.js';
import { S3Errors } from './errors.js';

export interface UploadDigests {
  size: number;
  /** Hex MD5 of the payload (the ETag of a single PUT or a part). */
  md5: string;
  /** The additional checksum sent or asked for, verified (base64). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface UploadBody {
  source: AsyncGenerator<Uint8Array>;
  /** Verifies what can only be verified at the end; call once the source has ended. */
  finish(): UploadDigests;
}

export interface UploadBodyOptions {
  payload: PayloadMode;
  /** Most payload bytes accepted (EntityTooLarge past it). */
  maxSize: number;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function uploadBody(
  req: IncomingMessage,
  { payload, maxSize }: UploadBodyOptions,
): UploadBody {
  const h = req.headers;
  const chunked = payload.kind === 'chunked';
  const declaredText = chunked
    ? single(h['x-amz-decoded-content-length'])
    : single(h['content-length']);
  const declared = declaredText === undefined ? undefined : Number(declaredText);
  if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
    throw S3Errors.InvalidArgument('the content length is not a number');
  }
  if (declared !== undefined && declared > maxSize) {
    throw S3Errors.EntityTooLarge(`objects and parts are limited to ${maxSize} bytes here`);
  }

  const contentMd5 = single(h['content-md5']);
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16) {
    throw S3Errors.InvalidDigest('Content-MD5 must be the base64 of 16 bytes');
  }

  // At most one additional checksum: given in a header, announced as a trailer, or only named.
  const checksumHeaders = Object.keys(h).filter(
    (n) => n.startsWith('x-amz-checksum-') && n !== 'x-amz-checksum-type',
  );
  const trailerChecksums = chunked
    ? payload.trailers.filter((t) => t.startsWith('x-amz-checksum-'))
    : [];
  if (checksumHeaders.length + trailerChecksums.length > 1) {
    throw S3Errors.InvalidRequest('Expecting a single x-amz-checksum- header');
  }
  let algorithm: ChecksumAlgorithm | undefined;
  let expectedChecksum: (() => string | undefined) | undefined;
  if (checksumHeaders[0]) {
    const name = checksumHeaders[0];
    algorithm = algorithmOfHeader(name);
    const value = single(h[name]);
    expectedChecksum = () => value;
  } else if (trailerChecksums[0]) {
    const name = trailerChecksums[0];
    algorithm = algorithmOfHeader(name);
    expectedChecksum = () => decoder?.trailers.get(name);
  } else {
    const named = single(h['x-amz-sdk-checksum-algorithm']);
    if (named) algorithm = algorithmOfName(named);
  }
  if (chunked && payload.trailers.some((t) => !t.startsWith('x-amz-checksum-'))) {
    throw S3Errors.NotImplemented('only x-amz-checksum-* trailing headers are supported');
  }

  const md5 = createHash('md5');
  const sha = payload.kind === 'sha256' ? createHash('sha256') : undefined;
  const extra = algorithm ? createChecksum(algorithm) : undefined;
  const decoder = chunked
    ? new ChunkedDecoder({
        ...(payload.signing ? { signing: payload.signing } : {}),
        trailers: payload.trailers,
      })
    : undefined;
  let size = 0;

  async function* source(): AsyncGenerator<Uint8Array> {
    // A refused body must leave the request readable: sendError then drains it, and the client
    // reads our error. Destroying it (a plain for-await's early exit) resets the connection.
    const raw = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
    for await (const piece of decoder ? decodeChunked(raw, decoder) : raw) {
      size += piece.byteLength;
      if (size > maxSize)
        throw S3Errors.EntityTooLarge(`objects and parts are limited to ${maxSize} bytes here`);
      md5.update(piece);
      sha?.update(piece);
      extra?.update(piece);
      yield piece;
    }
  }

  return {
    source: source(),
    finish() {
      if (declared !== undefined && size !== declared) {
        throw S3Errors.IncompleteBody(`received ${size} of ${declared} bytes`);
      }
      const md5Bytes = md5.digest();
      if (contentMd5 !== undefined && !md5Bytes.equals(Buffer.from(contentMd5, 'base64'))) {
        throw S3Errors.BadDigest('The Content-MD5 you specified did not match what we received');
      }
      if (sha && payload.kind === 'sha256' && sha.digest('hex') !== payload.hex) {
        throw S3Errors.XAmzContentSHA256Mismatch();
      }
      let checksum: UploadDigests['checksum'];
      if (algorithm && extra) {
        const value = extra.digest();
        const want = expectedChecksum?.();
        if (expectedChecksum && want !== value) {
          throw S3Errors.BadDigest(
            `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum`,
          );
        }
        checksum = { algorithm, value };
      }
      return { size, md5: md5Bytes.toString('hex'), ...(checksum ? { checksum } : {}) };
    },
  };
}
