// Public surface of @peerstash/crypto: keys and ids, the seed IV‖CTR format, and the
// authenticated PSB1 sealed format (streaming transforms and small-buffer helpers).
export type { ByteSource } from './byte-io.js';
export { CryptoPool, type CryptoPoolOptions } from './crypto-pool.js';
export {
  AbortedError,
  BadHeaderError,
  ClosedError,
  CryptoError,
  IntegrityError,
  InvalidArgumentError,
  KeySizeError,
  PoolClosedError,
  RangeNotSatisfiableError,
  UnsupportedVersionError,
  WorkerError,
} from './errors.js';
export { emptyFinalRecord } from './final-record.js';
export {
  deriveFileId,
  deriveNamespace,
  generateId,
  type HashAlgorithm,
  hashKey,
  newEncryptionKey,
} from './keys.js';
export { type OpenRangeOptions, open, openRange } from './open.js';
export { type ReadAt, type ReadRangeOptions, readRange } from './read-range.js';
export { type SealOptions, seal } from './seal.js';
export { openBytes, sealBytes } from './seal-bytes.js';
export {
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  sealedSize,
  TAG_SIZE,
  VERSION,
} from './sealed-format.js';
export { plainSizeOf, type RangePlan, type SealedSpan, sealedRange } from './sealed-range.js';
export { type CopyOptions, copyDecrypt, copyEncrypt } from './seed-format.js';
