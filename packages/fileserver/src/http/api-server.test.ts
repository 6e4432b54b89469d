import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError, NoVaultKeyError } from '../errors.js';
import { createMetrics } from '../metrics.js';
import type { NodeStatus } from '../ops/status.js';
import type { ApiBackend } from './api-backend.js';
import { ApiServer } from './api-server.js';
import { fileRoutes, statRoute } from './file-routes.js';
import { addNodeRoutes } from './node-routes.js';

const silent = pino({ level: 'silent' });
const TOKEN = 'a-token-of-at-least-sixteen-chars';

/** A test double of the node behind the API: files in a Map, every call recorded. */
function fakeBackend() {
  const files = new Map<string, Buffer>();
  const calls: string[] = [];
  const backend: ApiBackend = {
    async store(key, source) {
      const parts: Buffer[] = [];
      for await (const c of source as AsyncIterable<Buffer>) parts.push(c);
      files.set(key, Buffer.concat(parts));
      calls.push(`store ${key}`);
      return {
        key,
        size: files.get(key)!.length,
        digest: 'd'.repeat(64),
        replicas: 2,
        modified: 0,
      };
    },
    async read(key) {
      const data = files.get(key);
      if (!data) throw new NotFoundError(`no such file: ${key}`);
      return {
        stream: Readable.from([data]),
        size: data.length,
        digest: 'd'.repeat(64),
        source: 'local',
      };
    },
    async info(key) {
      if (key === 'locked') throw new NoVaultKeyError();
      const data = files.get(key);
      if (!data) throw new NotFoundError();
      return { key, size: data.length, modified: 0, version: 'd'.repeat(64) };
    },
    async delete(key, { everywhere }) {
      calls.push(`delete ${key} ${everywhere}`);
      return { deleted: files.delete(key), peers: everywhere ? 1 : 0 };
    },
    async listPage(query) {
      calls.push(`list ${JSON.stringify(query)}`);
      const keys = [...files.keys()].filter((k) => k.startsWith(query.prefix ?? ''));
      return {
        files: keys.map((key) => ({
          key,
          size: files.get(key)!.length,
          version: 'd'.repeat(64),
          modified: 0,
          copies: 1,
        })),
        prefixes: [],
      };
    },
    async status() {
      return { nodeId: 'n' } as NodeStatus;
    },
    async scrub() {
      calls.push('scrub');
      return { checked: 0, bytes: 0, rotten: 0, dropped: 0 };
    },
    metrics: createMetrics(() => 0, false),
  };
  return { backend, files, calls };
}

const servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve() {
  const fake = fakeBackend();
  const api = new ApiServer(TOKEN, silent);
  api.mount('/v1/files/', fileRoutes(fake.backend, silent));
  api.mount('/v1/stat/', statRoute(fake.backend));
  addNodeRoutes(api, fake.backend, silent);
  await api.listen('127.0.0.1', 0);
  servers.push(api);
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
    });
  return { api, call, ...fake };
}

describe('ApiServer on a fake backend', () => {
  it('refuses a request without the token before any route runs', async () => {
    const { api, calls } = await serve();
    const res = await fetch(`${api.url}/v1/files`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toMatchObject({ code: 'ERR_AUTH' });
    expect(calls).toEqual([]);
  });

  it('puts, gets, heads, lists and deletes through the backend', async () => {
    const { call, calls } = await serve();
    const put = await call('/v1/files/a%2Fb%20c', { method: 'PUT', body: 'hello' });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ key: 'a/b c', size: 5, replicas: 2 });
    const get = await call('/v1/files/a%2Fb%20c');
    expect(get.headers.get('x-peerstash-source')).toBe('local');
    expect(await get.text()).toBe('hello');
    const head = await call('/v1/files/a%2Fb%20c', { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('5');
    expect(head.headers.get('etag')).toBe(`"${'d'.repeat(64)}"`);
    const cached = await call('/v1/files/a%2Fb%20c', {
      headers: { 'if-none-match': `"${'d'.repeat(64)}"` },
    });
    expect(cached.status).toBe(304);
    expect((await call('/v1/files?all=1')).status).toBe(200);
    const page = await call('/v1/files?prefix=a%2F&delimiter=%2F&after=a%2Fa&limit=5');
    expect((await page.json()).files).toHaveLength(1);
    expect((await call('/v1/files?limit=x')).status).toBe(400);
    const stat = await call('/v1/stat/a%2Fb%20c');
    expect(await stat.json()).toEqual({
      key: 'a/b c',
      size: 5,
      modified: 0,
      version: 'd'.repeat(64),
    });
    const del = await call('/v1/files/a%2Fb%20c?everywhere=yes', { method: 'DELETE' });
    expect(await del.json()).toEqual({ key: 'a/b c', deleted: true, peers: 1 });
    expect(calls).toEqual([
      'store a/b c',
      'list {}',
      'list {"prefix":"a/","delimiter":"/","after":"a/a","limit":5}',
      'delete a/b c true',
    ]);
  });

  it('maps backend errors to statuses and JSON codes', async () => {
    const { call } = await serve();
    const missing = await call('/v1/files/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const head = await call('/v1/files/locked', { method: 'HEAD' });
    expect(head.status).toBe(403);
    expect(head.headers.get('x-peerstash-error')).toBe('ERR_NO_VAULT_KEY');
    const bad = await call('/v1/files/%ZZ');
    expect(await bad.json()).toMatchObject({ code: 'ERR_INVALID_KEY' });
    expect((await call('/v1/files/nope', { method: 'DELETE' })).status).toBe(404);
  });

  it('answers unknown routes with 404 and wrong methods with 405 and Allow', async () => {
    const { call, calls } = await serve();
    const none = await call('/v2/other');
    expect(none.status).toBe(404);
    const method = await call('/v1/files/x', { method: 'POST', body: 'x' });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    expect(await method.json()).toMatchObject({ code: 'ERR_METHOD' });
    const scrub = await call('/v1/scrub');
    expect(scrub.headers.get('allow')).toBe('POST');
    expect((await call('/v1/status', { method: 'PUT', body: '{}' })).headers.get('allow')).toBe(
      'GET',
    );
    expect((await call('/v1/scrub', { method: 'POST' })).status).toBe(202);
    expect(calls).toEqual(['scrub']);
  });

  it('takes extra handlers: the longest mounted prefix wins, behind the same token', async () => {
    const { api, call } = await serve();
    api.mount('/ui/', { methods: { GET: (_req, res, ctx) => res.end(`ui:${ctx.rest}`) } });
    api.mount('/ui/api/', { methods: { GET: (_req, res, ctx) => res.end(`ui-api:${ctx.rest}`) } });
    expect(await (await call('/ui/index.html')).text()).toBe('ui:index.html');
    expect(await (await call('/ui/api/x?y=1')).text()).toBe('ui-api:x');
    expect((await fetch(`${api.url}/ui/index.html`)).status).toBe(401);
  });
});
