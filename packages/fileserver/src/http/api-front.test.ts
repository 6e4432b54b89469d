import { request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from './api-server.js';
import { sendJson } from './respond.js';

const silent = pino({ level: 'silent' });
const TOKEN = 'a-token-of-at-least-sixteen-chars';

const servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * An API with one route (/v1/echo: method and bearer seen) and a front that takes /ui/*: it
 * answers /ui/hello itself, hands /ui/api/* to the API in-process with the token, throws on /ui/boom.
 */
async function serve(allowedHosts: string[] = []) {
  const api = new ApiServer(TOKEN, silent, allowedHosts);
  const taken: string[] = [];
  api.route('/v1/echo', {
    methods: {
      GET: (req, res) =>
        sendJson(res, 200, { method: req.method, auth: !!req.headers.authorization }),
      POST: (req, res) => {
        req.resume();
        req.once('end', () => sendJson(res, 200, { method: req.method }));
      },
    },
  });
  api.front((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/ui/')) return false;
    taken.push(`${req.method} ${url}`);
    if (url === '/ui/boom') throw new Error('front end bug');
    if (url.startsWith('/ui/api/')) {
      req.headers.authorization = `Bearer ${TOKEN}`;
      req.url = url.slice('/ui/api'.length);
      api.dispatch(req, res);
      return true;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('front');
    return true;
  });
  await api.listen('127.0.0.1', 0);
  servers.push(api);
  return { api, taken };
}

/** A request with exactly these headers (fetch will not send a chosen Host). */
function raw(api: ApiServer, path: string, method = 'GET', headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: api.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end(method === 'POST' ? 'x' : undefined);
  });
}

describe('ApiServer front handlers', () => {
  it('answer what they take before the bearer check, and leave the rest to it', async () => {
    const { api, taken } = await serve();
    expect(await raw(api, '/ui/hello')).toEqual({ status: 200, body: 'front' });
    const api401 = await raw(api, '/v1/echo');
    expect(api401.status).toBe(401);
    expect(JSON.parse(api401.body)).toMatchObject({ code: 'ERR_AUTH' });
    const ok = await raw(api, '/v1/echo', 'GET', { authorization: `Bearer ${TOKEN}` });
    expect(JSON.parse(ok.body)).toEqual({ method: 'GET', auth: true });
    expect(taken).toEqual(['GET /ui/hello']);
  });

  it('reach the API in-process through dispatch, behind the same bearer check', async () => {
    const { api } = await serve();
    const got = await raw(api, '/ui/api/v1/echo');
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({ method: 'GET', auth: true });
    const missing = await raw(api, '/ui/api/v1/nothing');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('see only requests the Host and Origin guard passed', async () => {
    const { api, taken } = await serve(['nas.lan']);
    const rebound = await raw(api, '/ui/hello', 'GET', { host: `evil.example:${api.port}` });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'ERR_HOST_NOT_ALLOWED' });
    const cross = await raw(api, '/ui/api/v1/echo', 'POST', { origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body)).toMatchObject({ code: 'ERR_CROSS_ORIGIN' });
    expect(taken).toEqual([]);
    const named = await raw(api, '/ui/hello', 'GET', { host: `nas.lan:${api.port}` });
    expect(named.status).toBe(200);
    const same = await raw(api, '/ui/api/v1/echo', 'POST', {
      host: `127.0.0.1:${api.port}`,
      origin: `http://127.0.0.1:${api.port}`,
    });
    expect(JSON.parse(same.body)).toEqual({ method: 'POST' });
  });

  it('that throw get a JSON 500, and the listener keeps serving', async () => {
    const { api } = await serve();
    const boom = await raw(api, '/ui/boom');
    expect(boom.status).toBe(500);
    expect(JSON.parse(boom.body)).toMatchObject({ code: 'ERR_INTERNAL' });
    expect((await raw(api, '/ui/hello')).status).toBe(200);
  });
});
