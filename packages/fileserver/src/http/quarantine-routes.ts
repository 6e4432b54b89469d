// The API's quarantine routes: GET /v1/quarantine lists the records held back (a node back after
// the tombstone TTL), POST /v1/quarantine/<key> releases one, DELETE drops it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../errors.js';
import type { ApiBackend } from './api-backend.js';
import type { ApiServer, RouteContext } from './api-server.js';
import { decodePathKey } from './file-routes.js';
import { discardBody, sendJson } from './respond.js';

export function addQuarantineRoutes(api: ApiServer, backend: ApiBackend): void {
  const list = async (req: IncomingMessage, res: ServerResponse) => {
    discardBody(req);
    sendJson(res, 200, { records: backend.quarantined() });
  };
  api.route('/v1/quarantine', { methods: { GET: list, HEAD: list }, allow: 'GET' });
  const settle =
    (action: 'release' | 'drop') =>
    async (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => {
      discardBody(req);
      const key = decodePathKey(ctx.rest);
      if (!(await backend.settleQuarantined(key, action))) {
        throw new NotFoundError(`nothing of ${key} is held back`);
      }
      sendJson(res, 200, { key, [action === 'release' ? 'released' : 'dropped']: true });
    };
  api.mount('/v1/quarantine/', { methods: { POST: settle('release'), DELETE: settle('drop') } });
}
