// Public surface of @peerstash/gateway: the backend interface, the restic and S3 servers, the
// access-key store and the errors. Everything not exported here is internal.

export type {
  Attributes,
  Backend,
  ByteRange,
  ComposeOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  PartOf,
  ReadOptions,
  ReadResult,
  SignalOptions,
  WriteOptions,
  WriteResult,
} from './backend.js';
export {
  AbortedError,
  BackendErrorCode,
  ConflictError,
  codeOf,
  GatewayError,
  IntegrityError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidRangeError,
  LimitError,
  NoSpaceError,
  NotFoundError,
  ProtocolError,
  SignatureError,
} from './errors.js';
export type { Listener, ListenOptions, RequestHandler, TlsOptions } from './http/listen.js';
export { parseListen } from './http/listen.js';
export type { AccessKey, AccessKeySummary, AddKeyOptions, CredentialsProvider } from './keys.js';
export { KeyStore, staticCredentials } from './keys.js';
export type { Logger } from './logger.js';
export type { ResticServerOptions } from './restic/server.js';
export { createResticHandler, startResticServer } from './restic/server.js';
export type { S3ServerOptions } from './s3/server.js';
export { createS3Handler, startS3Server } from './s3/server.js';
