// The API's node routes: the file list, status, Prometheus metrics and starting a scrub pass.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListQuery } from '../catalog/name-index.js';
import { InvalidArgumentError, isAbort } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ApiBackend } from './api-backend.js';
import type { ApiServer, RouteContext } from './api-server.js';
import { discardBody, sendJson } from './respond.js';

type Reader = (res: ServerResponse, ctx: RouteContext) => Promise<void>;

/**
 * The listing's query: prefix, delimiter, after (the `next` of the page before) and limit
 * (1..10,000, default 1,000). `all` (old clients) is accepted and changes nothing: every listing
 * is the cluster's now.
 */
export function listQuery(query: URLSearchParams): ListQuery {
  const out: ListQuery = {};
  for (const name of ['prefix', 'delimiter', 'after'] as const) {
    const v = query.get(name);
    if (v !== null) out[name] = v;
  }
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^\d{1,6}$/.test(limit)) throw new InvalidArgumentError('limit must be 1..10000');
    out.limit = Number(limit);
  }
  return out;
}

/** A GET (or HEAD) route whose request body, if any, is dropped. */
function reading(fn: Reader) {
  const run = async (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => {
    discardBody(req);
    await fn(res, ctx);
  };
  return { methods: { GET: run, HEAD: run }, allow: 'GET' };
}

/** Adds the node routes and the file routes' siblings to `api`. */
export function addNodeRoutes(api: ApiServer, backend: ApiBackend, log: Logger): void {
  api.route(
    '/v1/files',
    reading(async (res, { query }) => {
      sendJson(res, 200, await backend.listPage(listQuery(query)));
    }),
  );
  api.route(
    '/v1/status',
    reading(async (res) => sendJson(res, 200, await backend.status())),
  );
  api.route(
    '/metrics',
    reading(async (res) => {
      const text = await backend.metrics.registry.metrics();
      res.writeHead(200, {
        'content-type': backend.metrics.registry.contentType,
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    }),
  );
  api.route('/v1/scrub', {
    methods: {
      POST: (req, res) => {
        discardBody(req);
        // a pass may take hours: it runs on, and status() tells when it is done and what it found
        backend.scrub().catch((err) => {
          // stop() cuts a pass short: that is not a failure worth a warning
          if (isAbort(err)) log.debug({ err }, 'scrub pass cut short');
          else log.warn({ err }, 'scrub pass failed');
        });
        sendJson(res, 202, { started: true });
      },
    },
  });
}
