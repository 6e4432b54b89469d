// The API's node routes: the file list, status, Prometheus metrics and starting a scrub pass.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbort } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ApiBackend } from './api-backend.js';
import type { ApiServer, RouteContext } from './api-server.js';
import { discardBody, flag, sendJson } from './respond.js';

type Reader = (res: ServerResponse, ctx: RouteContext) => Promise<void>;

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
      sendJson(res, 200, { files: await backend.list({ all: flag(query, 'all') }) });
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
