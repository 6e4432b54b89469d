// Small request-body helpers shared by the front ends: a bounded read for XML/JSON bodies, and
// the drain that lets a refused upload's client read the error instead of a connection reset.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { LimitError } from '../errors.js';

/** Reads the whole body, refusing more than `limit` bytes (LimitError, checked while reading). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new LimitError(`body of ${declared} bytes is over ${limit}`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new LimitError(`body is over ${limit} bytes`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

const DRAIN_LIMIT = 64 * 1024 * 1024;
const DRAIN_MS = 10_000;

/**
 * After an early answer, reads and drops what is left of the body (up to 64 MiB or 10 s, then the
 * connection is cut), so the client sees our response and the connection can be reused.
 */
export function drainAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded || req.destroyed) return;
  // A client still waiting for "100 Continue" has sent no body: closing is cheaper than reading.
  if (req.headers.expect?.toLowerCase() === '100-continue' && !res.headersSent) {
    res.setHeader('Connection', 'close');
  }
  let seen = 0;
  const cut = () => {
    req.socket.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MS).unref();
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > DRAIN_LIMIT) cut();
  });
  req.on('error', () => {});
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** A signal that aborts when the client goes away before the response has been sent. */
export function clientGone(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort(new Error('client closed the connection'));
  });
  return ac.signal;
}
