// Puts an HTTP server behind the checks every request passes before its handler sees it: Host
// (DNS rebinding), Origin on writes, a minimum body rate, and answers to what the parser refuses.

import { type IncomingMessage, maxHeaderSize, type Server, type ServerResponse } from 'node:http';
import { CODES, InvalidArgumentError } from '../../errors.js';
import { type BodyRateOptions, DEFAULT_BODY_RATE, hasBody, watchBodyRate } from './body-rate.js';
import { answerClientError } from './client-error.js';
import { crossOriginWrite, hostAllowed } from './host-check.js';

export interface GuardOptions {
  /** Host names besides IP addresses and `localhost` that requests may name (case-insensitive). */
  allowedHosts?: Iterable<string>;
  /** Origins besides the request's own allowed to send state-changing requests (`https://console.lan`). */
  allowedOrigins?: Iterable<string>;
  /** The body-rate floor; `{ bytesPerSec: 0 }` turns it off. */
  bodyRate?: Partial<BodyRateOptions>;
  logger?: { debug(obj: object, msg?: string): void };
}

/** How much of a refused request's body is read and dropped, so the client sees the answer rather than a reset. */
const REFUSED_BODY_BYTES = 1024 * 1024;
const REFUSED_BODY_MS = 5000;

function sendJson(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  close = false,
) {
  const text = `${JSON.stringify({ code, message })}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  return new Promise<void>((resolve) => res.end(text, resolve));
}

function dropBody(req: IncomingMessage): void {
  if (req.complete) return;
  let seen = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, REFUSED_BODY_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > REFUSED_BODY_BYTES) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function normalized(names: Iterable<string> | undefined): Set<string> {
  return new Set([...(names ?? [])].map((n) => n.trim().toLowerCase().replace(/\.$/, '')));
}

/**
 * Wraps the server's 'request' listeners (attach the handler first) so that only requests that
 * pass reach them, and answers client errors itself (replacing any 'clientError' listener).
 */
export function guardServer(server: Server, options: GuardOptions = {}): void {
  const handlers = server.listeners('request') as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  if (handlers.length === 0) {
    throw new InvalidArgumentError('guardServer: attach the request handler before the guard');
  }
  const hosts = normalized(options.allowedHosts);
  const origins = new Set([...(options.allowedOrigins ?? [])].map((o) => o.toLowerCase()));
  const rate: BodyRateOptions = { ...DEFAULT_BODY_RATE, ...options.bodyRate };
  if (options.bodyRate?.windowMs !== undefined && options.bodyRate.graceMs === undefined) {
    rate.graceMs = rate.windowMs;
  }
  const log = options.logger;

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: string,
    why: string,
  ) => {
    log?.debug(
      { code, host: req.headers.host, origin: req.headers.origin },
      'HTTP request refused',
    );
    dropBody(req);
    void sendJson(res, status, code, why);
  };

  const tooSlow = (req: IncomingMessage, res: ServerResponse, bytesPerSec: number) => {
    log?.debug({ bytesPerSec: Math.round(bytesPerSec) }, 'HTTP request body too slow; closed');
    // the handler reading the body fails as the socket goes, so nothing it was writing is kept
    const cut = () => req.destroy();
    if (res.headersSent) return cut();
    const floor = `${rate.bytesPerSec} bytes/s over ${rate.windowMs / 1000} s`;
    void sendJson(res, 408, CODES.TIMEOUT, `request body slower than ${floor}`, true).then(cut);
    setTimeout(cut, 1000).unref();
  };

  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req.headers.host, hosts)) {
      const host = String(req.headers.host).slice(0, 200);
      return refuse(
        req,
        res,
        421,
        CODES.HOST_NOT_ALLOWED,
        `Host "${host}" is not an allowed name for this node`,
      );
    }
    if (crossOriginWrite(req.method, req.headers, origins)) {
      const origin = String(req.headers.origin ?? req.headers['sec-fetch-site']).slice(0, 200);
      return refuse(
        req,
        res,
        403,
        CODES.CROSS_ORIGIN,
        `cross-origin ${req.method} from ${origin} refused`,
      );
    }
    if (hasBody(req)) watchBodyRate(req, rate, (r) => tooSlow(req, res, r));
    for (const handler of handlers) handler.call(server, req, res);
  });
  server.removeAllListeners('clientError');
  // set by createServer({ maxHeaderSize }), missing from the typings
  const headerLimit = (server as Server & { maxHeaderSize?: number }).maxHeaderSize;
  server.on('clientError', answerClientError(headerLimit ?? maxHeaderSize));
}
