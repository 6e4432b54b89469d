// Turns a key into a hash and the hash into nested folders (`ab/cd/<hash>`).
// The original design's CASPathTransformFunc is `{ algorithm: 'md5', blockSize: 5, depth: Infinity }`.

import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

export type HashAlgorithm = 'sha256' | 'md5';

export interface PathKey {
  /** Folders below the namespace, joined by '/', e.g. `ab/cd` ('' for a flat layout). */
  pathName: string;
  /** File name stem of the blob, the full hex hash of the key. */
  filename: string;
}

export interface CasPathTransformOptions {
  /** Hash of the key; default 'sha256'. */
  algorithm?: HashAlgorithm;
  /** Hex characters per folder name; default 2. */
  blockSize?: number;
  /** Folder levels; default 2. `Infinity` cuts the whole hash, as the original design did. */
  depth?: number;
}

export type PathTransform = (key: string) => PathKey;

export function casPathTransform(key: string, options: CasPathTransformOptions = {}): PathKey {
  const { algorithm = 'sha256', blockSize = 2, depth = 2 } = options;
  if (algorithm !== 'sha256' && algorithm !== 'md5') {
    throw new InvalidArgumentError(`unsupported hash algorithm: ${String(algorithm)}`);
  }
  const filename = createHash(algorithm).update(key, 'utf8').digest('hex');
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > filename.length) {
    throw new InvalidArgumentError(`blockSize must be an integer in 1..${filename.length}`);
  }
  if (!(depth === Number.POSITIVE_INFINITY || (Number.isInteger(depth) && depth >= 0))) {
    throw new InvalidArgumentError('depth must be a non-negative integer or Infinity');
  }
  const levels = Math.min(depth, Math.floor(filename.length / blockSize));
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(filename.slice(i * blockSize, (i + 1) * blockSize));
  return { pathName: parts.join('/'), filename };
}

/** Binds options once, for `new CasStore({ pathTransform })`. */
export function createPathTransform(options: CasPathTransformOptions = {}): PathTransform {
  casPathTransform('', options); // fail fast on bad options
  return (key) => casPathTransform(key, options);
}
