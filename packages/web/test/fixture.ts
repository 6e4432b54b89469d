// Test fixtures: a console on a real HTTP server on 127.0.0.1 port 0, in front of an upstream
// that records what reached it (the node API's stand-in, served over HTTP or in-process).

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type ConsoleOptions, createConsole, type WebConsole } from '../src/console.js';

export const API_TOKEN = 'test-api-token-0123456789abcdef';
export const ASSETS_DIR = fileURLToPath(new URL('../dist/ui/', import.meta.url));

export interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  cookie: string | undefined;
  origin: string | undefined;
  bytes: number;
  sha256: string;
  closedEarly: boolean;
}

/** What the upstream answers: enough of the node API's shape to see what the console forwards. */
export function upstreamHandler(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const entry: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      cookie: req.headers.cookie,
      origin: req.headers.origin,
      bytes: 0,
      sha256: '',
      closedEarly: false,
    };
    seen.push(entry);
    res.once('close', () => {
      if (!res.writableFinished) entry.closedEarly = true;
    });
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.once('end', () => {
      entry.bytes = bytes;
      entry.sha256 = hash.digest('hex');
      const url = entry.url;
      if (url === '/v1/files/refuse-token') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"code":"ERR_AUTH"}');
      } else if (url.startsWith('/v1/files/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"code":"ERR_NOT_FOUND","message":"no such file"}');
      } else if (url.startsWith('/v1/files/endless') && req.method === 'GET') {
        // a big download that the client abandons part way
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      } else if (url.startsWith('/v1/files/') && req.method === 'GET') {
        const body = Buffer.from(`bytes of ${decodeURIComponent(url.slice(10))}`);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': body.length,
          'set-cookie': 'upstream=1',
        });
        res.end(body);
      } else if (url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end('peerstash_bytes_in_total{via="api"} 42\n');
      } else {
        const body = JSON.stringify({ method: entry.method, url, bytes, sha256: entry.sha256 });
        res.writeHead(req.method === 'PUT' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(body);
      }
    });
  };
}

export async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface Rig {
  url: string;
  port: number;
  console: WebConsole;
  seen: Seen[];
  close(): Promise<void>;
}

/** A console in front of a recording upstream, reached over HTTP ('url') or in-process. */
export async function startRig(
  mode: 'url' | 'function',
  extra: Partial<ConsoleOptions> = {},
): Promise<Rig> {
  const seen: Seen[] = [];
  const handler = upstreamHandler(seen);
  const servers: Server[] = [];
  let upstream: ConsoleOptions['upstream'] = handler;
  if (mode === 'url') {
    const up = createServer(handler);
    servers.push(up);
    upstream = await listen(up);
  }
  const c = createConsole({ apiToken: API_TOKEN, upstream, assetsDir: ASSETS_DIR, ...extra });
  const front = createServer((req, res) => {
    if (!c.handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not the console');
    }
  });
  servers.push(front);
  const url = await listen(front);
  return {
    url,
    port: Number(new URL(url).port),
    console: c,
    seen,
    async close() {
      c.close();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with exactly the headers given (fetch would add or refuse some, e.g. Host, Origin). */
export function raw(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** Signs in through the public routes and returns the cookie pair and the CSRF token. */
export async function signIn(rig: Rig): Promise<{ cookie: string; csrf: string }> {
  const issued = await raw(rig.url, '/ui/sign-in-tokens', {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const { path } = JSON.parse(issued.body.toString()) as { path: string };
  const r = await raw(rig.url, path);
  const set = String(r.headers['set-cookie']?.[0] ?? '');
  const cookie = set.split(';')[0]!;
  const s = await raw(rig.url, '/ui/session', { headers: { cookie } });
  return { cookie, csrf: (JSON.parse(s.body.toString()) as { csrf: string }).csrf };
}
