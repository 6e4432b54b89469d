// The console's request handler for everything under /ui/: the app's pages, sign-in with one-time
// tokens, cookie sessions with CSRF tokens, and the authenticated pass-through to the node's API.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Assets, DEFAULT_ASSETS_DIR } from './assets.js';
import {
  AuthError,
  ConsoleError,
  CsrfError,
  HostError,
  InvalidArgumentError,
  MethodError,
  NotFoundError,
} from './errors.js';
import { readNodeInfo } from './node-info.js';
import { createForwarder, type HeadHook, type Upstream } from './proxy.js';
import { drain, sendError, sendJson, sendPage } from './respond.js';
import {
  clearedCookie,
  cookieNameFor,
  DATA_CSP,
  hostAllowed,
  PAGE_CSP,
  readCookie,
  sameOrigin,
  sessionCookie,
  setCommonHeaders,
} from './security.js';
import { type Session, type SessionLimits, Sessions } from './sessions.js';

export interface Logger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ConsoleOptions {
  /** The node's API bearer token: the console adds it to what it forwards; it never reaches a page. */
  apiToken: string;
  /** The node's API: its base URL (`http://127.0.0.1:PORT`) or an in-process `/v1/*` handler. */
  upstream: Upstream;
  /** The node's data dir: free disk space and the peers met before (node.json) for the cluster page. */
  dataDir?: string;
  /** Host names served besides IP literals and localhost (the DNS-rebinding defence). */
  allowedHosts?: string[];
  /** Sign-in token and session lifetimes and counts. */
  sessions?: Partial<SessionLimits>;
  /** The built app (default: dist/ui beside this module). */
  assetsDir?: string;
  logger?: Logger;
}

export interface IssuedSignIn {
  token: string;
  /** `/ui/sign-in?t=<token>`: put the node's API origin in front of it. */
  path: string;
  expiresAt: number;
}

export interface WebConsole {
  /** Serves `req` when its path is `/ui` or under `/ui/` and returns true; otherwise false. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** A one-time sign-in link for this node (`peerstash ui`), valid for `sessions.signInTtlMs`. */
  issueSignInToken(): IssuedSignIn;
  /** Ends every session and unused sign-in link (`peerstash ui --revoke`); returns sessions ended. */
  revokeAll(): number;
  /** Live sessions now. */
  readonly sessionCount: number;
  /** Closes the keep-alive connections to the API. */
  close(): void;
}

const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
const silent: Logger = { debug() {}, warn() {}, error() {} };

function splitUrl(raw: string): { path: string; query: URLSearchParams; search: string } {
  const q = raw.indexOf('?');
  const search = q === -1 ? '' : raw.slice(q);
  return { path: q === -1 ? raw : raw.slice(0, q), query: new URLSearchParams(search), search };
}

/** `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187). */
export function attachmentHeader(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1) || 'download';
  const ascii = base.replace(/[^A-Za-z0-9._ -]/g, '_');
  const exact = encodeURIComponent(base).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16)}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

export function createConsole(options: ConsoleOptions): WebConsole {
  if (typeof options.apiToken !== 'string' || options.apiToken.length < 16) {
    throw new InvalidArgumentError('apiToken must be the node API token (16+ characters)');
  }
  const token = Buffer.from(options.apiToken, 'utf8');
  const sessions = new Sessions(options.sessions);
  const forwarder = createForwarder(options.upstream, options.apiToken);
  const assets = new Assets(options.assetsDir ?? DEFAULT_ASSETS_DIR);
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const cookie = cookieNameFor(options.apiToken);
  const log = options.logger ?? silent;

  const issue = (): IssuedSignIn => {
    const { token: t, expiresAt } = sessions.issueSignInToken();
    return { token: t, path: `/ui/sign-in?t=${t}`, expiresAt };
  };

  const bearerOk = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !/^Bearer /i.test(h)) return false;
    const given = Buffer.from(h.slice(7).trim(), 'utf8');
    return given.length === token.length && timingSafeEqual(given, token);
  };

  const secure = (req: IncomingMessage) => (req.socket as TLSSocket).encrypted === true;

  /** The request's live session, checked for origin and (when it changes state) its CSRF token. */
  const session = (req: IncomingMessage): Session => {
    const id = readCookie(req, cookie);
    const s = id ? sessions.get(id) : undefined;
    if (!s) throw new AuthError('not signed in, or the session expired: run `peerstash ui`');
    if (!sameOrigin(req)) throw new CsrfError('request from another origin');
    if (UNSAFE.has(req.method ?? 'GET') && !Sessions.csrfMatches(s, header(req, 'x-csrf-token'))) {
      throw new CsrfError();
    }
    return s;
  };

  const methods = (req: IncomingMessage, allow: string[]): void => {
    if (!allow.includes(req.method ?? 'GET')) throw new MethodError(allow.join(', '));
  };

  async function route(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const { path, query, search } = splitUrl(raw);
    if (!hostAllowed(req.headers.host, hosts)) {
      throw new HostError(`host not allowed: use 127.0.0.1 or localhost, or --api-allowed-host`);
    }
    const api = path.startsWith('/ui/api/');
    setCommonHeaders(res, api ? DATA_CSP : PAGE_CSP);
    const head = req.method === 'HEAD';

    if (path === '/ui') {
      drain(req);
      res.writeHead(308, { location: '/ui/', 'content-length': 0 });
      res.end();
      return;
    }
    if (path === '/ui/' || path === '/ui/index.html' || path.startsWith('/ui/assets/')) {
      methods(req, ['GET', 'HEAD']);
      drain(req);
      const rel = path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
      return assets.send(res, rel, head);
    }
    switch (path) {
      case '/ui/sign-in': {
        methods(req, ['GET']);
        drain(req);
        const got = sessions.redeem(query.get('t') ?? '');
        if (!got) {
          sendPage(
            res,
            401,
            'Sign-in link not valid',
            'This link has expired or was used already. Run <code>peerstash ui</code> on the node’s machine for a new one.',
          );
          return;
        }
        // 303 to a clean address: the one-time token leaves the address bar and the history
        res.writeHead(303, {
          location: '/ui/',
          'set-cookie': sessionCookie(cookie, got.id, sessions.limits.maxAgeMs, secure(req)),
          'cache-control': 'no-store',
          'content-length': 0,
        });
        res.end();
        return;
      }
      case '/ui/sign-in-tokens':
      case '/ui/revoke': {
        methods(req, ['POST']);
        drain(req);
        if (!bearerOk(req)) throw new AuthError('missing or wrong bearer token');
        if (path === '/ui/revoke') {
          sendJson(res, 200, { sessions: sessions.revokeAll() });
          return;
        }
        const issued = issue();
        const host = req.headers.host ?? '127.0.0.1';
        const origin = `${secure(req) ? 'https' : 'http'}://${host}`;
        sendJson(res, 201, { ...issued, url: `${origin}${issued.path}` });
        return;
      }
      case '/ui/session': {
        methods(req, ['GET']);
        drain(req);
        const s = session(req);
        sendJson(res, 200, {
          csrf: s.csrf,
          signedInAt: s.createdAt,
          expiresAt: s.expiresAt,
          idleMs: sessions.limits.idleMs,
        });
        return;
      }
      case '/ui/sign-out': {
        methods(req, ['POST']);
        drain(req);
        session(req);
        sessions.end(readCookie(req, cookie) ?? '');
        res.writeHead(204, { 'set-cookie': clearedCookie(cookie, secure(req)) });
        res.end();
        return;
      }
      case '/ui/api/node': {
        methods(req, ['GET']);
        drain(req);
        session(req);
        sendJson(res, 200, await readNodeInfo(options.dataDir));
        return;
      }
      case '/ui/api/metrics':
        methods(req, ['GET']);
        session(req);
        return forwarder.forward(req, res, '/metrics');
      case '/ui/api/file': {
        methods(req, ['GET', 'HEAD', 'PUT', 'DELETE']);
        session(req);
        const key = query.get('key');
        if (!key) throw new InvalidArgumentError('key is required');
        const everywhere = req.method === 'DELETE' && query.get('everywhere') === '1';
        const target = `/v1/files/${encodeURIComponent(key)}${everywhere ? '?everywhere=1' : ''}`;
        let hook: HeadHook | undefined;
        if (req.method === 'GET' && query.get('download') === '1') {
          hook = (status) => ({
            'content-disposition': status < 300 ? attachmentHeader(key) : null,
          });
        }
        return forwarder.forward(req, res, target, hook);
      }
    }
    if (path.startsWith('/ui/api/v1/')) {
      session(req);
      return forwarder.forward(req, res, path.slice('/ui/api'.length) + search);
    }
    throw new NotFoundError(`no such page: ${path.slice(0, 200)}`);
  }

  return {
    handle(req, res) {
      const raw = req.url ?? '/';
      if (raw !== '/ui' && !raw.startsWith('/ui/') && !raw.startsWith('/ui?')) return false;
      route(req, res, raw).catch((err: unknown) => {
        if (!(err instanceof ConsoleError)) log.error({ err }, 'console request failed');
        else if (err.code === 'ERR_UPSTREAM') log.warn({ err }, 'console could not reach the API');
        else log.debug({ code: err.code }, 'console request refused');
        sendError(res, err);
        drain(req);
      });
      return true;
    },
    issueSignInToken: issue,
    revokeAll: () => sessions.revokeAll(),
    get sessionCount() {
      return sessions.size;
    },
    close: () => forwarder.close(),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
