// Typed errors of the file server, one class per failure, each with a stable `code`.
// Codes are the shared strings of docs/DESIGN.md so the CLI and HTTP layer map them without importing classes.

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
    super('ERR_NOT_FOUND', message, options);
  }
}

export class InvalidKeyError extends FileServerError {
  constructor(message = 'invalid file key', options?: { cause?: unknown }) {
    super('ERR_INVALID_KEY', message, options);
  }
}

export class InvalidArgumentError extends FileServerError {
  constructor(message = 'invalid argument', options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** The node holds no vault key: it keeps sealed replicas only and can never produce plaintext. */
export class NoVaultKeyError extends FileServerError {
  constructor(
    message = 'this node has no vault key (storage-only)',
    options?: { cause?: unknown },
  ) {
    super('ERR_NO_VAULT_KEY', message, options);
  }
}

export class IntegrityError extends FileServerError {
  constructor(message = 'blob failed verification', options?: { cause?: unknown }) {
    super('ERR_INTEGRITY', message, options);
  }
}

export class ProtocolError extends FileServerError {
  constructor(message = 'peer broke the protocol', options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}

export class AuthError extends FileServerError {
  constructor(message = 'missing or wrong bearer token', options?: { cause?: unknown }) {
    super('ERR_AUTH', message, options);
  }
}

export class TimeoutError extends FileServerError {
  constructor(message = 'timed out', options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
  }
}

export class AbortedError extends FileServerError {
  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

export class ClosedError extends FileServerError {
  constructor(message = 'file server is not running', options?: { cause?: unknown }) {
    super('ERR_CLOSED', message, options);
  }
}

export class NotConnectedError extends FileServerError {
  constructor(message = 'peer not connected', options?: { cause?: unknown }) {
    super('ERR_NOT_CONNECTED', message, options);
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
