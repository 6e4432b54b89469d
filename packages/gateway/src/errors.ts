// Typed errors of the gateway and the codes it expects from a backend, each with a stable `code`.
// Front ends map a backend failure on its `code` alone, so any backend can throw its own classes.

export interface ErrorOptions {
  cause?: unknown;
}

/** Base class of every error the gateway throws on purpose. */
export class GatewayError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The codes a backend's errors carry (as `error.code`) for the gateway to answer them properly.
 * Any other code (or none) is an internal error (500) and is logged.
 */
export const BackendErrorCode = {
  /** No such key (404 NoSuchKey / restic 404). */
  NotFound: 'ERR_NOT_FOUND',
  /** The backend refuses this key (400). */
  InvalidKey: 'ERR_INVALID_KEY',
  /** A range starts past the end of the object (416). */
  InvalidRange: 'ERR_INVALID_RANGE',
  /** Stored bytes failed verification and no sound copy exists (500, body cut off if streaming). */
  Integrity: 'ERR_INTEGRITY',
  /** Disk or quota full; nothing was kept (507). */
  NoSpace: 'ERR_NO_SPACE',
  /**
   * A concurrent operation on the key won (a delete of it took the copy this write was making):
   * nothing was kept (409 OperationAborted / restic 409; the client may send it again).
   */
  Conflict: 'ERR_CONFLICT',
  /** The operation was cancelled by its signal (the client went away). */
  Aborted: 'ERR_ABORTED',
  /** Temporarily unable: peers unreachable, timeouts, closing (503, clients retry). */
  Unavailable: 'ERR_UNAVAILABLE',
  Timeout: 'ERR_TIMEOUT',
  NotConnected: 'ERR_NOT_CONNECTED',
  Closed: 'ERR_CLOSED',
} as const;

/** Backend: the key holds no object. */
export class NotFoundError extends GatewayError {
  constructor(message = 'not found', options?: ErrorOptions) {
    super('ERR_NOT_FOUND', message, options);
  }
}

/** Backend: the key cannot be stored (empty, too long, not a well-formed string). */
export class InvalidKeyError extends GatewayError {
  constructor(message = 'invalid key', options?: ErrorOptions) {
    super('ERR_INVALID_KEY', message, options);
  }
}

/** Backend: a range that starts at or past the object's size. */
export class InvalidRangeError extends GatewayError {
  constructor(message = 'range not satisfiable', options?: ErrorOptions) {
    super('ERR_INVALID_RANGE', message, options);
  }
}

/** Bytes (stored or received) do not match the digest or checksum they should have. */
export class IntegrityError extends GatewayError {
  constructor(message = 'integrity check failed', options?: ErrorOptions) {
    super('ERR_INTEGRITY', message, options);
  }
}

/** Backend: disk or quota full. */
export class NoSpaceError extends GatewayError {
  constructor(message = 'no space left', options?: ErrorOptions) {
    super('ERR_NO_SPACE', message, options);
  }
}

/** Backend: a concurrent operation on the key won over this write; nothing was kept. */
export class ConflictError extends GatewayError {
  constructor(message = 'a concurrent operation on this key won', options?: ErrorOptions) {
    super('ERR_CONFLICT', message, options);
  }
}

/** The operation was aborted by its signal. */
export class AbortedError extends GatewayError {
  constructor(message = 'aborted', options?: ErrorOptions) {
    super('ERR_ABORTED', message, options);
  }
}

/** An option or argument has the wrong shape (bad listen address, bad key store file, ...). */
export class InvalidArgumentError extends GatewayError {
  constructor(message = 'invalid argument', options?: ErrorOptions) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** A request or stream broke the protocol it claims (malformed aws-chunked body, bad XML). */
export class ProtocolError extends GatewayError {
  constructor(message = 'protocol error', options?: ErrorOptions) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** A signature (request, chunk or trailer) does not verify. */
export class SignatureError extends GatewayError {
  constructor(message = 'signature does not match', options?: ErrorOptions) {
    super('ERR_AUTH', message, options);
  }
}

/** A body or header is larger than the limit for it. */
export class LimitError extends GatewayError {
  constructor(message = 'limit exceeded', options?: ErrorOptions) {
    super('ERR_LIMIT', message, options);
  }
}

/** The key store file was changed by someone else while we held its lock, or is locked too long. */
export class KeyStoreLockedError extends GatewayError {
  constructor(message = 'key store is locked by another process', options?: ErrorOptions) {
    super('ERR_TIMEOUT', message, options);
  }
}

/** The access key id is not in the store (revoked or never issued). */
export class UnknownKeyError extends GatewayError {
  constructor(message = 'no such access key', options?: ErrorOptions) {
    super('ERR_NOT_FOUND', message, options);
  }
}

/** Read the `code` of anything thrown, without trusting its shape. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
