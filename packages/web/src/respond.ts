// Small answers shared by the console's routes: JSON bodies, JSON errors, and dropping the body of
// a refused request so the browser reads the answer instead of a reset.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConsoleError, MethodError, statusOf } from './errors.js';

const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 10_000;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string | string[]> = {},
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

/** Answers `err` as `{ code, message }`; unknown errors are 500 with no detail. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof ConsoleError) {
    const extra: Record<string, string> = err instanceof MethodError ? { allow: err.allow } : {};
    sendJson(res, statusOf(err), { code: err.code, message: err.message }, extra);
    return;
  }
  sendJson(res, 500, { code: 'ERR_INTERNAL', message: 'internal error' });
}

/**
 * Reads and drops what is left of a refused request's body (closing a socket with unread bytes
 * makes the kernel reset it, which can overtake the answer); past the cap the socket is cut.
 */
export function drain(req: IncomingMessage): void {
  if (req.complete || req.destroyed || req.readableFlowing) return;
  let seen = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_BYTES) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** A static page with no script and no input echoed back (sign-in failures). */
export function sendPage(res: ServerResponse, status: number, title: string, text: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · peerstash</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}
