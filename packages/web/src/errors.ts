// Typed errors of the web console, one class per failure, each with a stable `code` (the shared
// strings of docs/DESIGN.md); refused HTTP requests answer JSON `{ code, message }` with these codes.

export class ConsoleError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class InvalidArgumentError extends ConsoleError {
  constructor(message = 'invalid argument', options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** No session cookie, an expired or revoked session, or a wrong bearer token. */
export class AuthError extends ConsoleError {
  constructor(message = 'not signed in', options?: { cause?: unknown }) {
    super('ERR_AUTH', message, options);
  }
}

/** A state-changing request without the session's CSRF token, or from another origin. */
export class CsrfError extends ConsoleError {
  constructor(message = 'missing or wrong CSRF token', options?: { cause?: unknown }) {
    super('ERR_CSRF', message, options);
  }
}

/** A Host header that is neither an IP literal, localhost, nor an allowed name (DNS rebinding). */
export class HostError extends ConsoleError {
  constructor(message = 'host not allowed', options?: { cause?: unknown }) {
    super('ERR_HOST', message, options);
  }
}

export class NotFoundError extends ConsoleError {
  constructor(message = 'not found', options?: { cause?: unknown }) {
    super('ERR_NOT_FOUND', message, options);
  }
}

export class MethodError extends ConsoleError {
  readonly allow: string;
  constructor(allow: string, options?: { cause?: unknown }) {
    super('ERR_METHOD', `use ${allow}`, options);
    this.allow = allow;
  }
}

/** The node's API could not be reached, or refused the console's own token. */
export class UpstreamError extends ConsoleError {
  constructor(message = 'the node API did not answer', options?: { cause?: unknown }) {
    super('ERR_UPSTREAM', message, options);
  }
}

const STATUS: Record<string, number> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_AUTH: 401,
  ERR_CSRF: 403,
  ERR_NOT_FOUND: 404,
  ERR_METHOD: 405,
  ERR_HOST: 421,
  ERR_UPSTREAM: 502,
};

export function statusOf(err: ConsoleError): number {
  return STATUS[err.code] ?? 500;
}
