// Typed errors of the file server, one class per failure, each with a stable `code`, and every
// code the package uses or reads (docs/DESIGN.md lists them); raw Node.js codes are mapped here only.

/**
 * Every code this package sets, sends or reads. The first group are its own (a class below, or a
 * code sent on the wire or over HTTP); the second are lower packages' codes it reacts to.
 */
export const CODES = {
  NOT_FOUND: 'ERR_NOT_FOUND',
  INVALID_KEY: 'ERR_INVALID_KEY',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  NO_VAULT_KEY: 'ERR_NO_VAULT_KEY',
  INTEGRITY: 'ERR_INTEGRITY',
  PROTOCOL: 'ERR_PROTOCOL',
  AUTH: 'ERR_AUTH',
  TIMEOUT: 'ERR_TIMEOUT',
  ABORTED: 'ERR_ABORTED',
  CLOSED: 'ERR_CLOSED',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  /** A replica offered for a file deleted everywhere after that version (store-ack). */
  DELETED: 'ERR_DELETED',
  /** Two nodes placing keys over different member sets (repair-summary-reply). */
  VIEW: 'ERR_VIEW',
  /** HTTP: a method the route does not take (405). */
  METHOD: 'ERR_METHOD',
  /** HTTP: a request node:http could not parse (400). */
  BAD_REQUEST: 'ERR_BAD_REQUEST',
  /** HTTP: a failure without a code of its own (500, message hidden). */
  INTERNAL: 'ERR_INTERNAL',
  /** A disk read failed (EIO): the copy is counted as rotten. */
  IO: 'ERR_IO',
  /** Past a size limit (HTTP headers here; frames and streams in transport-tcp). */
  LIMIT: 'ERR_LIMIT',
  /** HTTP: a Host header that names neither this node nor an allowed name (421, DNS rebinding). */
  HOST_NOT_ALLOWED: 'ERR_HOST_NOT_ALLOWED',
  /** HTTP: a state-changing request from another origin (403). */
  CROSS_ORIGIN: 'ERR_CROSS_ORIGIN',
  /** A catalog record that does not validate (catalog-push-ack results, catalog/errors.ts). */
  BAD_RECORD: 'ERR_BAD_RECORD',
  /** A catalog record dated too far ahead of this node's clock. */
  CLOCK_DRIFT: 'ERR_CLOCK_DRIFT',
  /** A record for an unknown file older than the tombstones this node has forgotten. */
  STALE_RECORD: 'ERR_STALE_RECORD',
  /** A key used as a path with `..`, an empty segment or a leading `/` (400). */
  INVALID_PATH: 'ERR_INVALID_PATH',
  /** A replica offered that is not the catalog's current version of its file (store-ack). */
  SUPERSEDED: 'ERR_SUPERSEDED',
  /** cas-store: the disk is full. */
  NO_SPACE: 'ERR_NO_SPACE',
  /** crypto: a byte range that starts at or past the end of the file (HTTP 416). */
  RANGE_NOT_SATISFIABLE: 'ERR_RANGE_NOT_SATISFIABLE',
} as const;

export type Code = (typeof CODES)[keyof typeof CODES];

export class FileServerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class NotFoundError extends FileServerError {
  constructor(message = 'file not found', options?: { cause?: unknown }) {
    super(CODES.NOT_FOUND, message, options);
  }
}

export class InvalidKeyError extends FileServerError {
  constructor(message = 'invalid file key', options?: { cause?: unknown }) {
    super(CODES.INVALID_KEY, message, options);
  }
}

export class InvalidArgumentError extends FileServerError {
  constructor(message = 'invalid argument', options?: { cause?: unknown }) {
    super(CODES.INVALID_ARGUMENT, message, options);
  }
}

/** The node holds no vault key: it keeps sealed replicas only and can never produce plaintext. */
export class NoVaultKeyError extends FileServerError {
  constructor(
    message = 'this node has no vault key (storage-only)',
    options?: { cause?: unknown },
  ) {
    super(CODES.NO_VAULT_KEY, message, options);
  }
}

export class IntegrityError extends FileServerError {
  constructor(message = 'blob failed verification', options?: { cause?: unknown }) {
    super(CODES.INTEGRITY, message, options);
  }
}

export class ProtocolError extends FileServerError {
  constructor(message = 'peer broke the protocol', options?: { cause?: unknown }) {
    super(CODES.PROTOCOL, message, options);
  }
}

export class AuthError extends FileServerError {
  constructor(message = 'missing or wrong bearer token', options?: { cause?: unknown }) {
    super(CODES.AUTH, message, options);
  }
}

export class TimeoutError extends FileServerError {
  constructor(message = 'timed out', options?: { cause?: unknown }) {
    super(CODES.TIMEOUT, message, options);
  }
}

export class AbortedError extends FileServerError {
  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super(CODES.ABORTED, message, options);
  }
}

export class ClosedError extends FileServerError {
  constructor(message = 'file server is not running', options?: { cause?: unknown }) {
    super(CODES.CLOSED, message, options);
  }
}

export class NotConnectedError extends FileServerError {
  constructor(message = 'peer not connected', options?: { cause?: unknown }) {
    super(CODES.NOT_CONNECTED, message, options);
  }
}

/** A replica refused because the file was deleted everywhere after that version. */
export class DeletedError extends FileServerError {
  constructor(message = 'deleted everywhere after this version', options?: { cause?: unknown }) {
    super(CODES.DELETED, message, options);
  }
}

/** A replica refused because the catalog names another version of the file as current. */
export class SupersededError extends FileServerError {
  constructor(message = 'not the current version of the file', options?: { cause?: unknown }) {
    super(CODES.SUPERSEDED, message, options);
  }
}

/** The peer places keys over another set of nodes; a later round will agree. */
export class ViewMismatchError extends FileServerError {
  constructor(message = 'the peer sees other members', options?: { cause?: unknown }) {
    super(CODES.VIEW, message, options);
  }
}

export class MethodNotAllowedError extends FileServerError {
  constructor(message = 'method not allowed', options?: { cause?: unknown }) {
    super(CODES.METHOD, message, options);
  }
}

export class BadRequestError extends FileServerError {
  constructor(message = 'malformed HTTP request', options?: { cause?: unknown }) {
    super(CODES.BAD_REQUEST, message, options);
  }
}

export class LimitError extends FileServerError {
  constructor(message = 'over a size limit', options?: { cause?: unknown }) {
    super(CODES.LIMIT, message, options);
  }
}

/** Reads the `code` of any error, ours or a lower package's, without importing its class. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Raw Node.js codes (fs, streams, node:http) and the code of this package each stands for. */
const FROM_NODE: Record<string, Code> = {
  ENOENT: CODES.NOT_FOUND,
  ABORT_ERR: CODES.ABORTED,
  EIO: CODES.IO,
  HPE_HEADER_OVERFLOW: CODES.LIMIT,
  ERR_HTTP_REQUEST_TIMEOUT: CODES.TIMEOUT,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: CODES.BAD_REQUEST,
};

/**
 * The one place raw Node.js error codes are read: this package's code for such an error
 * (ENOENT → ERR_NOT_FOUND, ABORT_ERR → ERR_ABORTED, EIO → ERR_IO, …), else undefined.
 */
export function nodeErrorCode(err: unknown): Code | undefined {
  const code = errorCode(err);
  return code === undefined ? undefined : FROM_NODE[code];
}

/** An abort, whether ours (ERR_ABORTED) or Node's (ABORT_ERR from a stream or signal). */
export function isAbort(err: unknown): boolean {
  return errorCode(err) === CODES.ABORTED || nodeErrorCode(err) === CODES.ABORTED;
}
