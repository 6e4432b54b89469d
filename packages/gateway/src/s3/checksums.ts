// The additional checksums S3 clients send (x-amz-checksum-*, in headers or trailers), computed
// while the body streams: CRC32, CRC32C, SHA-1 and SHA-256 are verified; CRC64NVME is refused.

import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';
import { S3Errors } from './errors.js';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Checksum {
  update(data: Uint8Array): void;
  /** Base64, as S3 headers carry it. */
  digest(): string;
}

function u32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32': {
      let value = 0;
      return {
        update: (d) => {
          value = crc32(d, value);
        },
        digest: () => u32(value),
      };
    }
    case 'crc32c': {
      const c = new Crc32c();
      return { update: (d) => void c.update(d), digest: () => u32(c.digest()) };
    }
    case 'sha1':
    case 'sha256': {
      const h = createHash(algorithm);
      return { update: (d) => void h.update(d), digest: () => h.digest('base64') };
    }
  }
}

/** 'x-amz-checksum-crc32' → 'crc32'; NotImplemented for an algorithm we cannot verify. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm {
  const alg = name.toLowerCase().replace(/^x-amz-checksum-/, '');
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(alg)) return alg as ChecksumAlgorithm;
  throw S3Errors.NotImplemented(
    `checksum algorithm ${alg} is not supported (use CRC32, CRC32C, SHA1 or SHA256)`,
  );
}

/** From x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm values such as 'CRC32'. */
export function algorithmOfName(name: string): ChecksumAlgorithm {
  return algorithmOfHeader(`x-amz-checksum-${name.toLowerCase()}`);
}
