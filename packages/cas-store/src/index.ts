// Public surface of @peerstash/cas-store: the store, its path transform, its types and errors.
// Everything not exported here is internal.

export type {
  CasStoreOptions,
  DeleteOptions,
  Logger,
  OpenReport,
  ReadOptions,
  ReadResult,
  SignalOptions,
  WriteOptions,
  WriteResult,
} from './cas-store.js';
export { CasStore } from './cas-store.js';
export {
  AbortError,
  CasStoreError,
  IntegrityError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidNamespaceError,
  NoSpaceError,
  NotFoundError,
} from './errors.js';
export type { BlobMeta } from './meta.js';
export type {
  CasPathTransformOptions,
  HashAlgorithm,
  PathKey,
  PathTransform,
} from './path-transform.js';
export { casPathTransform, createPathTransform } from './path-transform.js';
export type { ByteSource } from './pump.js';
export type { Span } from './read-spans.js';
