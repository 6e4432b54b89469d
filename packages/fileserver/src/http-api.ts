// The node's HTTP control API on node:http: files (streamed both ways), list, status and
// Prometheus metrics, behind a bearer token; every error is JSON `{ code, message }`.

import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import {
  AuthError,
  errorCode,
  FileServerError,
  InvalidKeyError,
  NotFoundError,
  TimeoutError,
} from './errors.js';
import type { FileServer, Logger } from './file-server.js';
import { guardServer } from './http-guard/index.js';
import { Meter } from './streams.js';

/** Header block limit: a URL or header past this gets 431 from node:http before any handler runs. */
export const MAX_HEADER_BYTES = 16 * 1024;
const HEADERS_TIMEOUT_MS = 20_000;
const BODY_IDLE_MS = 30_000;
/** How much of a refused request's body is read and dropped so the client sees the answer. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 10_000;

const STATUS_BY_CODE: Record<string, number> = {
  ERR_INVALID_KEY: 400,
  ERR_INVALID_ARGUMENT: 400,
  ERR_BAD_REQUEST: 400,
  ERR_AUTH: 401,
  ERR_NO_VAULT_KEY: 403,
  ERR_NOT_FOUND: 404,
  ERR_METHOD: 405,
  ERR_TIMEOUT: 408,
  ERR_LIMIT: 413,
  ERR_ABORTED: 499,
  ERR_INTEGRITY: 502,
  ERR_CLOSED: 503,
  ERR_NO_SPACE: 507,
};

export function statusForCode(code: string | undefined): number {
  return (code && STATUS_BY_CODE[code]) || 500;
}

function sendJson(
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

function sendError(res: ServerResponse, err: unknown): void {
  const code = errorCode(err) ?? 'ERR_INTERNAL';
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

class HttpError extends FileServerError {}

/**
 * Reads and drops the rest of a refused request's body. Closing a socket with unread bytes makes
 * the kernel send a reset, which can reach the client before the answer does; a client that keeps
 * sending past the cap (bytes or time) has the connection cut.
 */
/** A yes/no query parameter: `1`, `true` or `yes` is yes. */
function flag(query: URLSearchParams, name: string): boolean {
  return ['1', 'true', 'yes'].includes(query.get(name) ?? '');
}

const discarding = new WeakSet<IncomingMessage>();

function discardBody(req: IncomingMessage): void {
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

/** Decodes the key part of /v1/files/<key>; malformed percent-encoding is ERR_INVALID_KEY. */
export function decodeKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch (cause) {
    throw new InvalidKeyError('key is not valid percent-encoded UTF-8', { cause });
  }
  if (key === '') throw new InvalidKeyError('key must not be empty');
  return key;
}

export class ApiServer {
  readonly #fs: FileServer;
  readonly #token: Buffer;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #host = '127.0.0.1';

  constructor(fs: FileServer, token: string, logger: Logger, allowedHosts: string[] = []) {
    this.#fs = fs;
    this.#token = Buffer.from(token, 'utf8');
    this.#log = logger;
    this.#server = createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 },
      (req, res) => {
        this.#handle(req, res).catch((err) => {
          // A refused request (unknown key, bad input) is the client's business, not a node fault.
          if (statusForCode(errorCode(err) ?? 'ERR_INTERNAL') >= 500) {
            this.#log.error({ err }, 'API handler failed');
          } else {
            this.#log.debug({ code: errorCode(err) }, 'API request refused');
          }
          sendError(res, err);
          discardBody(req);
        });
      },
    );
    // Large uploads and downloads may take long; silence is policed per body instead (BODY_IDLE_MS).
    this.#server.timeout = 0;
    this.#server.keepAliveTimeout = 5_000;
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    // Host, Origin, body-rate checks and the answers to what the parser refuses
    guardServer(this.#server, { allowedHosts, logger });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `http://${host}:${this.#port}`;
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address() as AddressInfo;
    this.#host = addr.address;
    this.#port = addr.port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  #authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !/^Bearer /i.test(h)) return false;
    const given = Buffer.from(h.slice(7).trim(), 'utf8');
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#authorized(req)) {
      discardBody(req);
      sendError(res, new AuthError());
      return;
    }
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    // the raw path, not a URL object: dot segments inside keys must not be normalised away
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';

    if (path.startsWith('/v1/files/')) {
      const key = decodeKey(path.slice('/v1/files/'.length));
      switch (method) {
        case 'PUT':
          return this.#put(req, res, key);
        case 'GET':
          return this.#get(req, res, key);
        case 'HEAD':
          return this.#head(req, res, key);
        case 'DELETE': {
          req.resume();
          const everywhere = flag(query, 'everywhere');
          const result = await this.#fs.delete(key, { everywhere });
          if (!result.deleted && result.peers === 0)
            throw new NotFoundError(`no such file: ${key}`);
          sendJson(res, 200, { key, ...result });
          return;
        }
        default:
          return this.#notAllowed(req, res, 'GET, HEAD, PUT, DELETE');
      }
    }
    const routes: Record<string, () => Promise<void>> = {
      '/v1/files': async () => {
        const all = flag(query, 'all');
        sendJson(res, 200, { files: await this.#fs.list({ all }) });
      },
      '/v1/status': async () => sendJson(res, 200, await this.#fs.status()),
      '/metrics': async () => {
        const text = await this.#fs.metrics.registry.metrics();
        res.writeHead(200, {
          'content-type': this.#fs.metrics.registry.contentType,
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      },
    };
    if (path === '/v1/scrub') {
      if (method !== 'POST') return this.#notAllowed(req, res, 'POST');
      discardBody(req);
      // a pass may take hours: it runs on, and status() tells when it is done and what it found
      this.#fs.scrub().catch((err) => {
        // stop() cuts a pass short: that is not a failure worth a warning
        if (errorCode(err) === 'ABORT_ERR') this.#log.debug({ err }, 'scrub pass cut short');
        else this.#log.warn({ err }, 'scrub pass failed');
      });
      sendJson(res, 202, { started: true });
      return;
    }
    const route = routes[path];
    if (!route) {
      discardBody(req);
      throw new HttpError('ERR_NOT_FOUND', `no route ${path.slice(0, 200)}`);
    }
    if (method !== 'GET' && method !== 'HEAD') return this.#notAllowed(req, res, 'GET');
    discardBody(req);
    await route();
  }

  #notAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
    discardBody(req);
    sendJson(res, 405, { code: 'ERR_METHOD', message: `use ${allow}` }, { allow });
  }

  async #put(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    const ac = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
    };
    res.once('close', onClose);
    const body = new Meter({ idleMs: BODY_IDLE_MS, what: 'request body' });
    req.once('error', (err) => body.destroy(err));
    req.pipe(body);
    try {
      const result = await this.#fs.store(key, body, { signal: ac.signal });
      sendJson(res, 201, result);
    } catch (err) {
      req.unpipe(body);
      body.destroy();
      if (ac.signal.aborted) {
        res.destroy();
        return;
      }
      sendError(res, err);
      discardBody(req);
    } finally {
      res.off('close', onClose);
    }
  }

  async #get(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    req.resume();
    const ac = new AbortController();
    const onClose = () => ac.abort(new Error('client went away'));
    res.once('close', onClose);
    try {
      const file = await this.#fs.read(key, { signal: ac.signal });
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': file.size,
        etag: `"${file.digest}"`,
        'x-peerstash-source': file.source,
      });
      // Only a client that stops reading is timed out here. A pause on the source side (a copy
      // going bad and the next one catching up to the same byte) is the node's to police.
      const meter = new Meter({
        onBytes: (n) => this.#fs.metrics.bytesOut.inc({ via: 'client' }, n),
      });
      const stalled = watchStall(res, BODY_IDLE_MS);
      try {
        await pipeline(file.stream, meter, res);
      } finally {
        stalled.stop();
      }
    } catch (err) {
      // Only a failure after the body started is a broken download; before it, sendError answers.
      const midBody = res.headersSent;
      if (!ac.signal.aborted) sendError(res, err);
      else res.destroy();
      if (midBody) this.#log.warn({ key, code: errorCode(err) }, 'GET broke off mid-body');
    } finally {
      res.off('close', onClose);
    }
  }

  async #head(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    req.resume();
    try {
      const info = await this.#fs.stat(key);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': info.size,
        etag: `"${info.digest}"`,
        'last-modified': new Date(info.createdAt).toUTCString(),
      });
      res.end();
    } catch (err) {
      // HEAD carries no body; the status and an error-code header say it all
      const code = errorCode(err) ?? 'ERR_INTERNAL';
      res.writeHead(statusForCode(code), { 'x-peerstash-error': code });
      res.end();
    }
  }
}
