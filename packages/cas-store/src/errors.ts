// Typed errors of the store, one class per failure, each with a stable `code`.
// Layers above map on `code` (shared strings across peerstash), never on messages.

export interface ErrorOptions {
  cause?: unknown;
}

/** Base class of every error the store throws on purpose. */
export class CasStoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The (namespace, key) pair holds no complete blob. */
export class NotFoundError extends CasStoreError {
  constructor(message = 'blob not found', options?: ErrorOptions) {
    super('ERR_NOT_FOUND', message, options);
  }
}

/** Stored or incoming bytes do not match the digest or size they should have. */
export class IntegrityError extends CasStoreError {
  constructor(message = 'blob integrity check failed', options?: ErrorOptions) {
    super('ERR_INTEGRITY', message, options);
  }
}

/** The disk or quota is full (ENOSPC / EDQUOT); nothing was kept. */
export class NoSpaceError extends CasStoreError {
  constructor(message = 'no space left on device', options?: ErrorOptions) {
    super('ERR_NO_SPACE', message, options);
  }
}

/** The key is empty or not a well-formed string. */
export class InvalidKeyError extends CasStoreError {
  constructor(message = 'invalid key', options?: ErrorOptions) {
    super('ERR_INVALID_KEY', message, options);
  }
}

/** An option or argument has the wrong shape. */
export class InvalidArgumentError extends CasStoreError {
  constructor(message = 'invalid argument', options?: ErrorOptions) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** The namespace is not 64 lowercase hex characters. */
export class InvalidNamespaceError extends InvalidArgumentError {
  constructor(message = 'namespace must be 64 lowercase hex characters', options?: ErrorOptions) {
    super(message, options);
  }
}

/** The caller's AbortSignal fired; nothing was kept. */
export class AbortError extends CasStoreError {
  constructor(message = 'operation aborted', options?: ErrorOptions) {
    super('ERR_ABORTED', message, options);
  }
}
