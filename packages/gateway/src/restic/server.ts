// restic's REST backend protocol (v1 and v2) over a Backend: repositories are folders under a
// prefix, uploads are checked against their SHA-256 names, append-only mode refuses deletes.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../backend.js';
import { codeOf, IntegrityError } from '../errors.js';
import { clientGone, drainAfterResponse } from '../http/body.js';
import { type Listener, type ListenOptions, listen, type RequestHandler } from '../http/listen.js';
import { contentRange, parseRange } from '../http/range.js';
import type { CredentialsProvider } from '../keys.js';
import { type Logger, silentLogger } from '../logger.js';
import { parseResticPath, type ResticRoute, repoPrefix } from './paths.js';

export interface ResticServerOptions {
  backend: Backend;
  /**
   * HTTP basic auth: user = access key id, password = its secret. A key restricted to a bucket
   * may use only the repository of that name (and those under it); a read-only key only reads.
   * `false` turns auth off, which must be asked for explicitly.
   */
  credentials: CredentialsProvider | false;
  /** Backend folder holding the repositories (default 'restic/'). */
  prefix?: string;
  /** No deletes except of locks (rest-server's --append-only). */
  appendOnly?: boolean;
  /** Refuse uploads whose SHA-256 is not their name (default true, as rest-server). */
  verifyUploads?: boolean;
  logger?: Logger;
}

const V1 = 'application/vnd.x.restic.rest.v1';
const V2 = 'application/vnd.x.restic.rest.v2';
const LIST_PAGE = 1000;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  route: ResticRoute;
  base: string;
  signal: AbortSignal;
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, text?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  drainAfterResponse(req, res);
  const body = req.method === 'HEAD' ? '' : `${text ?? statusText(status)}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    416: 'Requested Range Not Satisfiable',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
    507: 'Insufficient Storage',
  };
  return texts[status] ?? 'Error';
}

function statusForError(err: unknown): number {
  switch (codeOf(err)) {
    case 'ERR_NOT_FOUND':
      return 404;
    case 'ERR_INVALID_KEY':
      return 400;
    case 'ERR_INVALID_RANGE':
      return 416;
    case 'ERR_INTEGRITY':
      return 500;
    case 'ERR_NO_SPACE':
      return 507;
    case 'ERR_CONFLICT':
      return 409;
    case 'ERR_UNAVAILABLE':
    case 'ERR_TIMEOUT':
    case 'ERR_NOT_CONNECTED':
    case 'ERR_CLOSED':
      return 503;
    default:
      return 500;
  }
}

function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const at = text.indexOf(':');
  return at < 0 ? undefined : { user: text.slice(0, at), pass: text.slice(at + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** SHA-256 and length of a request body, read through without keeping it. */
async function digestOf(req: IncomingMessage): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of req) {
    hash.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export function createResticHandler(options: ResticServerOptions): RequestHandler {
  const { backend, credentials } = options;
  const prefix = options.prefix ?? 'restic/';
  const log = options.logger ?? silentLogger;
  const verify = options.verifyUploads ?? true;

  async function authorize(req: IncomingMessage, route: ResticRoute): Promise<number | undefined> {
    if (credentials === false) return undefined;
    const basic = parseBasic(req.headers.authorization);
    if (!basic) return 401;
    const key = await credentials.lookup(basic.user);
    if (!key || !sameSecret(key.secretAccessKey, basic.pass)) return 401;
    if (key.bucket !== undefined && route.repo[0] !== key.bucket) return 403;
    const reads = req.method === 'GET' || req.method === 'HEAD';
    if (key.readOnly && !reads) return 403;
    return undefined;
  }

  async function handle(ctx: Ctx): Promise<void> {
    const { req, res, route, base } = ctx;
    const method = req.method ?? 'GET';
    switch (route.kind) {
      case 'repo':
        if (method !== 'POST') return notAllowed(ctx, 'POST');
        if (new URL(req.url ?? '/', 'http://x').searchParams.get('create') !== 'true') {
          return reply(req, res, 400);
        }
        // A repository is a key prefix: nothing to create until restic writes its config.
        return reply(req, res, 200, 'created');
      case 'config':
        return object(ctx, `${base}config`, method, undefined);
      case 'list':
        if (method !== 'GET') return notAllowed(ctx, 'GET');
        return list(ctx, `${base}${route.type}/`);
      case 'object':
        return object(ctx, `${base}${route.type}/${route.name}`, method, route.name);
    }
  }

  function notAllowed({ req, res }: Ctx, allow: string): void {
    res.setHeader('Allow', allow);
    reply(req, res, 405);
  }

  async function object(ctx: Ctx, key: string, method: string, name: string | undefined) {
    const { req, res, signal, route } = ctx;
    if (method === 'HEAD' || method === 'GET') {
      const info = await backend.stat(key, { signal });
      if (!info) return reply(req, res, 404);
      if (method === 'HEAD') {
        res.writeHead(200, {
          'Content-Length': info.size,
          'Content-Type': 'application/octet-stream',
        });
        return void res.end();
      }
      const r = parseRange(req.headers.range, info.size);
      if (r.kind === 'unsatisfiable' || r.kind === 'multiple') {
        res.setHeader('Content-Range', `bytes */${info.size}`);
        return reply(req, res, 416);
      }
      const range = r.kind === 'range' ? r.range : undefined;
      const got = await backend.read(key, { ...(range ? { range } : {}), signal });
      const size = got.info.size;
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/octet-stream',
        'Accept-Ranges': 'bytes',
      };
      if (range) {
        const end = Math.min(range.end, size - 1);
        headers['Content-Range'] = contentRange({ start: range.start, end }, size);
        headers['Content-Length'] = end - range.start + 1;
      } else {
        headers['Content-Length'] = size;
      }
      res.writeHead(range ? 206 : 200, headers);
      await pipeline(got.stream, res);
      return;
    }
    if (method === 'POST') {
      const checked = name !== undefined && verify;
      const existing = await backend.stat(key, { signal });
      if (existing) {
        // A retry of an upload that was stored but whose answer never reached restic (the node
        // died, the connection broke) must succeed, or an append-only repository, where restic
        // cannot delete the file first, fails the backup: the same bytes under their own name
        // are accepted and nothing is rewritten (as rest-server does). Anything else is refused.
        if (!checked) return reply(req, res, 403, 'already exists');
        const again = await digestOf(req);
        const same = again.sha256 === name && again.size === existing.size;
        return reply(req, res, same ? 200 : 403, same ? 'already saved' : 'already exists');
      }
      const hash = createHash('sha256');
      // A backend that refuses part-way (a full disk) must leave the request readable: the reply
      // then drains it and restic reads our answer. A plain for-await's early exit destroys it
      // and resets the connection.
      const chunks = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
      async function* body() {
        for await (const c of chunks) {
          if (checked) hash.update(c as Buffer);
          yield c as Buffer;
        }
      }
      try {
        await backend.write(key, body(), {
          signal,
          attributes: () => {
            if (checked && hash.digest('hex') !== name) {
              throw new IntegrityError('file content does not match its name');
            }
            return {};
          },
        });
      } catch (err) {
        if (codeOf(err) === 'ERR_INTEGRITY')
          return reply(req, res, 400, 'content does not match hash');
        throw err;
      }
      return reply(req, res, 200, 'saved');
    }
    if (method === 'DELETE') {
      if (options.appendOnly && !(route.kind === 'object' && route.type === 'locks')) {
        return reply(req, res, 403, 'append-only repository');
      }
      const deleted = await backend.delete(key, { signal });
      return reply(req, res, deleted ? 200 : 404);
    }
    return notAllowed(ctx, 'HEAD, GET, POST, DELETE');
  }

  async function list(ctx: Ctx, folder: string): Promise<void> {
    const { req, res, signal } = ctx;
    const v2 = (req.headers.accept ?? '').includes(V2);
    let after: string | undefined;
    let first = true;
    let started = false;
    // Streamed page by page: a data folder of a big repository never sits in memory whole.
    for (;;) {
      const page = await backend.list({
        prefix: folder,
        delimiter: '/',
        after,
        limit: LIST_PAGE,
        signal,
      });
      if (!started) {
        res.writeHead(200, { 'Content-Type': v2 ? V2 : V1 });
        res.write('[');
        started = true;
      }
      let chunk = '';
      for (const e of page.entries) {
        const name = e.key.slice(folder.length);
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        chunk += `${first ? '' : ','}${JSON.stringify(v2 ? { name, size: e.size } : name)}`;
        first = false;
      }
      if (chunk && !res.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          res.once('drain', resolve);
          res.once('close', () => reject(new Error('client closed the connection')));
        });
      }
      if (!page.next) break;
      after = page.next;
    }
    res.end(']');
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const route = parseResticPath(url.split('?')[0] ?? '/');
    const started = Date.now();
    const run = async () => {
      if (!route) return reply(req, res, 404);
      const denied = await authorize(req, route);
      if (denied === 401) res.setHeader('WWW-Authenticate', 'Basic realm="restic"');
      if (denied !== undefined) return reply(req, res, denied);
      const base = repoPrefix(prefix, route.repo);
      await handle({ req, res, route, base, signal: clientGone(res) });
    };
    run()
      .catch((err) => {
        const status = statusForError(err);
        if (codeOf(err) !== 'ERR_ABORTED' && !res.destroyed) {
          (status >= 500 ? log.error : log.warn).call(
            log,
            { err, url, method: req.method },
            'restic request failed',
          );
        }
        if (!res.destroyed) reply(req, res, status);
      })
      .finally(() => {
        log.debug(
          { method: req.method, url, status: res.statusCode, ms: Date.now() - started },
          'restic',
        );
      });
  };
}

/** Starts a restic REST server; `listen` as 'host:port' (default 127.0.0.1, port 0 = any). */
export async function startResticServer(
  options: ResticServerOptions & ListenOptions,
): Promise<Listener> {
  return listen(createResticHandler(options), {
    ...options,
    headerOverflowResponse:
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n\r\nrequest headers are too large',
  });
}
