// The API's file routes, /v1/files/<key>: PUT streams a body into store(), GET streams read()'s
// plaintext out (or one byte range of it), HEAD and /v1/stat/<key> answer from the catalog.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CODES, errorCode, InvalidKeyError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Meter } from '../streams.js';
import type { ApiBackend } from './api-backend.js';
import { BODY_IDLE_MS, type Route, type RouteContext } from './api-server.js';
import { etagOf, matchesEtag, parseRange } from './byte-range.js';
import { discardBody, flag, sendError, sendJson, statusForCode, watchStall } from './respond.js';

/** Decodes the key part of /v1/files/<key>; malformed percent-encoding is ERR_INVALID_KEY. */
export function decodePathKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch (cause) {
    throw new InvalidKeyError('key is not valid percent-encoded UTF-8', { cause });
  }
  if (key === '') throw new InvalidKeyError('key must not be empty');
  return key;
}

/** The route to mount at /v1/files/. */
export function fileRoutes(backend: ApiBackend, log: Logger): Route {
  const withKey =
    (fn: (req: IncomingMessage, res: ServerResponse, key: string, ctx: RouteContext) => unknown) =>
    async (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => {
      await fn(req, res, decodePathKey(ctx.rest), ctx);
    };
  return {
    methods: {
      GET: withKey((req, res, key) => getFile(backend, log, req, res, key)),
      HEAD: withKey((req, res, key) => headFile(backend, req, res, key)),
      PUT: withKey((req, res, key) => putFile(backend, req, res, key)),
      DELETE: withKey(async (req, res, key, ctx) => {
        req.resume();
        const everywhere = flag(ctx.query, 'everywhere');
        const result = await backend.delete(key, { everywhere });
        if (!result.deleted && result.peers === 0) throw new NotFoundError(`no such file: ${key}`);
        sendJson(res, 200, { key, ...result });
      }),
    },
  };
}

async function putFile(
  backend: ApiBackend,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort(new Error('client went away'));
  };
  res.once('close', onClose);
  const body = new Meter({ idleMs: BODY_IDLE_MS, what: 'request body' });
  req.once('error', (err) => body.destroy(err));
  req.pipe(body);
  try {
    const result = await backend.store(key, body, { signal: ac.signal });
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

async function getFile(
  backend: ApiBackend,
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  req.resume();
  const inm = header(req, 'if-none-match');
  if (inm !== undefined) {
    // a client that has the current version gets 304 without a byte being read
    const info = await backend.info(key, {}).catch(() => undefined);
    if (info && matchesEtag(inm, info.version)) {
      notModified(res, info.version);
      return;
    }
  }
  let range = parseRange(header(req, 'range'));
  const ifRange = header(req, 'if-range');
  if (range && ifRange !== undefined) {
    // a range of another version than the client's would splice two files: send it whole
    const info = await backend.info(key, {}).catch(() => undefined);
    if (!info || !matchesEtag(ifRange, info.version)) range = undefined;
  }
  const ac = new AbortController();
  const onClose = () => ac.abort(new Error('client went away'));
  res.once('close', onClose);
  // a client may close as soon as it has every byte, while the source still settles (a fetched
  // copy's commit): that download is whole, not broken
  let whole = () => false;
  try {
    const file = await backend.read(key, { signal: ac.signal, ...(range ? { range } : {}) });
    const r = file.range;
    const length = r ? r.end - r.start + 1 : file.size;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': length,
      etag: etagOf(file.digest),
      'accept-ranges': 'bytes',
      'x-peerstash-source': file.source,
    };
    if (r) headers['content-range'] = `bytes ${r.start}-${r.end}/${file.size}`;
    res.writeHead(r ? 206 : 200, headers);
    // Only a client that stops reading is timed out here. A pause on the source side (a copy
    // going bad and the next one catching up to the same byte) is the node's to police.
    const meter = new Meter({
      onBytes: (n) => backend.metrics.bytesOut.inc({ via: 'client' }, n),
    });
    whole = () => meter.bytes >= length;
    const stalled = watchStall(res, BODY_IDLE_MS);
    try {
      await pipeline(file.stream, meter, res);
    } finally {
      stalled.stop();
    }
  } catch (err) {
    // Only a failure after the body started is a broken download; before it, sendError answers.
    const midBody = res.headersSent;
    if (ac.signal.aborted) res.destroy();
    else if (!midBody && errorCode(err) === CODES.RANGE_NOT_SATISFIABLE) {
      sendJson(
        res,
        416,
        { code: CODES.RANGE_NOT_SATISFIABLE, message: (err as Error).message },
        { 'content-range': `bytes */${(err as { size?: number }).size ?? 0}` },
      );
    } else sendError(res, err);
    if (midBody && whole()) log.debug({ key }, 'GET: the client closed after the whole body');
    else if (midBody) log.warn({ key, code: errorCode(err) }, 'GET broke off mid-body');
  } finally {
    res.off('close', onClose);
  }
}

/** HEAD: the cluster's current version from the catalog, without reading any blob. */
async function headFile(
  backend: ApiBackend,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  req.resume();
  try {
    const info = await backend.info(key, {});
    if (matchesEtag(header(req, 'if-none-match'), info.version)) {
      notModified(res, info.version);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': info.size,
      etag: etagOf(info.version),
      'last-modified': new Date(info.modified).toUTCString(),
      'accept-ranges': 'bytes',
    });
    res.end();
  } catch (err) {
    // HEAD carries no body; the status and an error-code header say it all
    const code = errorCode(err) ?? CODES.INTERNAL;
    res.writeHead(statusForCode(code), { 'x-peerstash-error': code });
    res.end();
  }
}

/** The route to mount at /v1/stat/: the cluster's answer for one key, holders included. */
export function statRoute(backend: ApiBackend): Route {
  const run = async (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => {
    discardBody(req);
    const key = decodePathKey(ctx.rest);
    const info = await backend.info(key, { holders: true });
    if (matchesEtag(header(req, 'if-none-match'), info.version)) {
      notModified(res, info.version);
      return;
    }
    sendJson(res, 200, info, { etag: etagOf(info.version) });
  };
  return { methods: { GET: run, HEAD: run }, allow: 'GET' };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function notModified(res: ServerResponse, version: string): void {
  res.writeHead(304, { etag: etagOf(version), 'accept-ranges': 'bytes' });
  res.end();
}
