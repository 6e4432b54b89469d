// Public surface of @peerstash/fileserver: the FileServer node, its data-dir helpers (for the
// CLI), placement, the HTTP status mapping, the peer message schema and the typed errors.

export {
  type ApiInfo,
  type Keys,
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
export {
  type DeleteResult,
  type FileEntry,
  type FileInfo,
  FileServer,
  type FileServerOptions,
  type Logger,
  type NodeStatus,
  type PeerStatus,
  type ReadResult,
  type StoreResult,
} from './file-server.js';
export { MAX_HEADER_BYTES, statusForCode } from './http-api.js';
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
} from './messages.js';
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
