// How the API answers: JSON bodies and JSON errors with the HTTP status of their code, draining a
// refused request's body, and cutting a download whose client stopped reading.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { CODES, errorCode, FileServerError, TimeoutError } from '../errors.js';

/** How much of a refused request's body is read and dropped so the client sees the answer. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 10_000;

const STATUS_BY_CODE: Record<string, number> = {
  [CODES.INVALID_KEY]: 400,
  [CODES.INVALID_ARGUMENT]: 400,
  [CODES.INVALID_PATH]: 400,
  [CODES.BAD_REQUEST]: 400,
  [CODES.AUTH]: 401,
  [CODES.NO_VAULT_KEY]: 403,
  [CODES.NOT_FOUND]: 404,
  [CODES.DELETED]: 409,
  [CODES.METHOD]: 405,
  [CODES.TIMEOUT]: 408,
  [CODES.LIMIT]: 413,
  [CODES.RANGE_NOT_SATISFIABLE]: 416,
  [CODES.ABORTED]: 499,
  [CODES.INTEGRITY]: 502,
  [CODES.CLOSED]: 503,
  [CODES.NO_SPACE]: 507,
};

export function statusForCode(code: string | undefined): number {
  return (code && STATUS_BY_CODE[code]) || 500;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const code = errorCode(err) ?? CODES.INTERNAL;
  const status = statusForCode(code);
  const message =
    status === 500 && !(err instanceof FileServerError) ? 'internal error' : (err as Error).message;
  if (res.headersSent) {
    // the body already started: the only honest signal left is to cut the connection
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const extra: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  sendJson(res, status, { code, message }, extra);
}

/** A yes/no query parameter: `1`, `true` or `yes` is yes. */
export function flag(query: URLSearchParams, name: string): boolean {
  return ['1', 'true', 'yes'].includes(query.get(name) ?? '');
}

const discarding = new WeakSet<IncomingMessage>();

/**
 * Reads and drops the rest of a refused request's body. Closing a socket with unread bytes makes
 * the kernel send a reset, which can reach the client before the answer does; a client that keeps
 * sending past the cap (bytes or time) has the connection cut.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed || discarding.has(req)) return;
  discarding.add(req);
  let seen = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) cut();
  });
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

/**
 * Destroys `res` when its client has not taken any bytes for `ms` while the response waits to
 * drain (a reader that stopped reading), and never because the body is slow to produce.
 */
export function watchStall(res: ServerResponse, ms: number): { stop(): void } {
  let since: number | undefined;
  const tick = Math.max(10, Math.min(1000, Math.floor(ms / 4)));
  const timer = setInterval(() => {
    if (!res.writableNeedDrain) {
      since = undefined;
      return;
    }
    since ??= Date.now();
    if (Date.now() - since >= ms) {
      res.destroy(new TimeoutError(`client took no bytes for ${ms} ms`));
    }
  }, tick);
  timer.unref();
  const onDrain = () => {
    since = undefined;
  };
  res.on('drain', onDrain);
  return {
    stop() {
      clearInterval(timer);
      res.off('drain', onDrain);
    },
  };
}
