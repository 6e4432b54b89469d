// Typed errors of @peerstash/crypto: one class per failure, each with a stable `code`
// so callers (and the layers above) can branch on `err.code` without importing the class.

export class CryptoError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A tag did not verify: the data was altered, truncated, reordered, or the key is wrong. */
export class IntegrityError extends CryptoError {
  constructor(message = 'sealed data failed verification', options?: { cause?: unknown }) {
    super('ERR_INTEGRITY', message, options);
  }
}

/** A key (or IV) has the wrong length. */
export class KeySizeError extends CryptoError {
  constructor(message = 'key must be 32 bytes', options?: { cause?: unknown }) {
    super('ERR_KEY_SIZE', message, options);
  }
}

/** The input does not start with a valid header (wrong magic, bad field, or cut short). */
export class BadHeaderError extends CryptoError {
  constructor(message = 'not a sealed blob header', options?: { cause?: unknown }) {
    super('ERR_BAD_HEADER', message, options);
  }
}

/** The header is well formed but names a format version this code does not know. */
export class UnsupportedVersionError extends CryptoError {
  readonly version: number;

  constructor(version: number, options?: { cause?: unknown }) {
    super('ERR_UNSUPPORTED_VERSION', `unsupported sealed blob version ${version}`, options);
    this.version = version;
  }
}

/** An argument is out of range (for example a chunk size that is not a power of two). */
export class InvalidArgumentError extends CryptoError {
  constructor(message = 'invalid argument', options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortedError extends CryptoError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/** The destination stream was closed or destroyed before the copy finished. */
export class ClosedError extends CryptoError {
  constructor(message = 'destination closed', options?: { cause?: unknown }) {
    super('ERR_CLOSED', message, options);
  }
}

/**
 * A plaintext byte range that lies past the end of the file (HTTP 416): the first byte asked
 * for is at or beyond the plaintext size, so no byte of it exists (every range of an empty file).
 */
export class RangeNotSatisfiableError extends CryptoError {
  readonly size: number;

  constructor(size: number, message = 'range not satisfiable', options?: { cause?: unknown }) {
    super('ERR_RANGE_NOT_SATISFIABLE', message, options);
    this.size = size;
  }
}

/** A crypto pool worker failed: it crashed, was terminated, or could not start. */
export class WorkerError extends CryptoError {
  constructor(message = 'crypto worker failed', options?: { cause?: unknown }) {
    super('ERR_WORKER', message, options);
  }
}

/** The crypto pool was closed: no new work is taken and work in flight is abandoned. */
export class PoolClosedError extends CryptoError {
  constructor(message = 'crypto pool is closed', options?: { cause?: unknown }) {
    super('ERR_POOL_CLOSED', message, options);
  }
}
