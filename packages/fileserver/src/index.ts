// Public surface of @peerstash/fileserver: the FileServer node, its data-dir helpers (for the
// CLI), placement, the HTTP status mapping, the peer message schema and the typed errors.

export { type BulkFile, type BulkLoadOptions, bulkLoadCatalog } from './catalog/bulk-load.js';
export type { ListQuery } from './catalog/name-index.js';
export type { Attributes, AttributeValue } from './catalog/record.js';
export type { FileServerOptions } from './config.js';
export {
  type ApiInfo,
  type Keys,
  parseKeyFile,
  readApiInfo,
  readKeyFile,
  readLastAlive,
  writeKeyFile,
} from './data-dir.js';
export {
  AbortedError,
  AuthError,
  ClosedError,
  FileServerError,
  IntegrityError,
  InvalidArgumentError,
  InvalidKeyError,
  NotConnectedError,
  NotFoundError,
  NoVaultKeyError,
  ProtocolError,
  TimeoutError,
} from './errors.js';
export { FileServer } from './file-server.js';
export type { ApiFront, ApiFrontContext, ApiFrontFactory } from './http/api-front.js';
export { type FrontHandler, MAX_HEADER_BYTES } from './http/api-server.js';
export type { RangeSpec } from './http/byte-range.js';
export { statusForCode } from './http/respond.js';
export type { Logger } from './logger.js';
export type {
  DeleteAck,
  DeleteRequest,
  GetRequest,
  GetResponse,
  IntegrityReport,
  PeerAddr,
  PeerMessage,
  PeersMessage,
  StoreAck,
  StoreOffer,
  StoreSmall,
} from './messages.js';
export type { NodeWarning } from './net/reachability.js';
export { resolveCryptoThreads } from './node-crypto.js';
export { NODE_ENV_VARS, NODE_FLAGS } from './node-flags.js';
export type { DeleteResult } from './ops/delete.js';
export type { FileStatus } from './ops/info.js';
export type { FileEntry, FilePage, ListedFile } from './ops/list.js';
export type { FileInfo } from './ops/local-file.js';
export type { QuarantineEntry } from './ops/quarantine.js';
export type { ReadResult } from './ops/read.js';
export type { Gateways, NodeStatus, PeerStatus } from './ops/status.js';
export type { StoreOptions, StoreResult } from './ops/store.js';
export * from './paths-entry.js';
export { placeReplicas, rankNodes } from './placement.js';
export type { RepairStatus } from './repair/anti-entropy.js';
export type {
  RepairHave,
  RepairHaveReply,
  RepairMessage,
  RepairSummary,
  RepairSummaryReply,
  TombstoneMessage,
} from './repair/messages.js';
export type { ScrubReport, ScrubStatus } from './repair/scrub.js';
