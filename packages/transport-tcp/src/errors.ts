// Typed errors of the transport, one class per failure, each with a stable `code`.
// Codes are shared strings so the layers above can map them without importing these classes.

export class TransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The peer broke the wire protocol (bad frame, limit exceeded, unexpected frame). */
export class ProtocolError extends TransportError {
  constructor(message = 'protocol violation', options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}

/** The secure channel could not be set up: wrong cluster secret, or TLS on one side only. */
export class AuthError extends TransportError {
  constructor(message = 'authentication failed', options?: { cause?: unknown }) {
    super('ERR_AUTH', message, options);
  }
}

/** A handshake or a keep-alive ping did not complete in time. */
export class TimeoutError extends TransportError {
  constructor(message = 'timed out', options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
  }
}

export class AbortedError extends TransportError {
  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/** The peer speaks another protocol version. */
export class UnsupportedVersionError extends TransportError {
  constructor(message = 'unsupported protocol version', options?: { cause?: unknown }) {
    super('ERR_UNSUPPORTED_VERSION', message, options);
  }
}

export class NotConnectedError extends TransportError {
  constructor(message = 'peer not connected', options?: { cause?: unknown }) {
    super('ERR_NOT_CONNECTED', message, options);
  }
}

/** A stream ended without its END frame: reset by either side, or its link was lost. */
export class StreamResetError extends TransportError {
  /** The code the resetting side gave, or the code of the link failure. */
  readonly reason: string;
  constructor(reason: string, message = `stream reset (${reason})`, options?: { cause?: unknown }) {
    super('ERR_STREAM_RESET', message, options);
    this.reason = reason;
  }
}

/** A local limit refused the call (message too large, too many open streams). */
export class LimitError extends TransportError {
  constructor(message = 'limit exceeded', options?: { cause?: unknown }) {
    super('ERR_LIMIT', message, options);
  }
}

/** The transport or the link was closed. */
export class ClosedError extends TransportError {
  constructor(message = 'closed', options?: { cause?: unknown }) {
    super('ERR_CLOSED', message, options);
  }
}

export class InvalidArgumentError extends TransportError {
  constructor(message = 'invalid argument', options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** The dialed address is this node itself. */
export class SelfConnectionError extends TransportError {
  constructor(message = 'connected to itself', options?: { cause?: unknown }) {
    super('ERR_SELF_CONNECTION', message, options);
  }
}

/** A second link between the same two nodes; the other one is kept. */
export class DuplicateConnectionError extends TransportError {
  constructor(message = 'duplicate connection', options?: { cause?: unknown }) {
    super('ERR_DUPLICATE_CONNECTION', message, options);
  }
}

/** Rebuilds the error a remote side reported by code (GOAWAY), keeping the code stable. */
export function errorFromCode(code: string, message: string): TransportError {
  switch (code) {
    case 'ERR_PROTOCOL':
      return new ProtocolError(message);
    case 'ERR_AUTH':
      return new AuthError(message);
    case 'ERR_TIMEOUT':
      return new TimeoutError(message);
    case 'ERR_UNSUPPORTED_VERSION':
      return new UnsupportedVersionError(message);
    case 'ERR_INVALID_ARGUMENT':
      return new InvalidArgumentError(message);
    case 'ERR_CLOSED':
      return new ClosedError(message);
    case 'ERR_SELF_CONNECTION':
      return new SelfConnectionError(message);
    case 'ERR_DUPLICATE_CONNECTION':
      return new DuplicateConnectionError(message);
    default:
      return new TransportError(code, message);
  }
}
