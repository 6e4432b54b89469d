// The node's HTTP control API server on node:http: a bearer token on every request, bounded
// headers, a route table (exact paths and mounted prefixes), and front handlers ahead of the token.

import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AuthError, CODES, errorCode, MethodNotAllowedError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { guardServer } from './guard/index.js';
import { discardBody, sendError, sendJson, statusForCode } from './respond.js';

/** Header block limit: a URL or header past this gets 431 from node:http before any handler runs. */
export const MAX_HEADER_BYTES = 16 * 1024;
const HEADERS_TIMEOUT_MS = 20_000;
/** Upload bodies and downloads that go silent this long are given up on. */
export const BODY_IDLE_MS = 30_000;

export interface RouteContext {
  /** The raw path (not normalised: dot segments inside keys stay), without the query. */
  path: string;
  query: URLSearchParams;
  /** For a mounted prefix: the path after it; else ''. */
  rest: string;
}

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
) => Promise<void> | void;

/**
 * A handler offered every request before the bearer check (a web console with its own sign-in):
 * it returns true when it has taken the request, false to leave it to the API's routes. The
 * listener's Host and Origin guard has already passed the request; its own auth is its business.
 */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Handlers by HTTP method; `allow` overrides the Allow header of a 405 (default: the methods). */
export interface Route {
  methods: Partial<Record<string, RouteHandler>>;
  allow?: string;
}

export class ApiServer {
  readonly #token: Buffer;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #exact = new Map<string, Route>();
  readonly #mounts: Array<{ prefix: string; route: Route }> = [];
  readonly #fronts: FrontHandler[] = [];
  #port = 0;
  #host = '127.0.0.1';

  constructor(token: string, logger: Logger, allowedHosts: Iterable<string> = []) {
    this.#token = Buffer.from(token, 'utf8');
    this.#log = logger;
    this.#server = createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 },
      (req, res) => {
        try {
          for (const front of this.#fronts) if (front(req, res)) return;
        } catch (err) {
          this.#refused(req, res, err);
          return;
        }
        this.dispatch(req, res);
      },
    );
    // Large uploads and downloads may take long; silence is policed per body instead (BODY_IDLE_MS).
    this.#server.timeout = 0;
    this.#server.keepAliveTimeout = 5_000;
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    // Host, Origin and body-rate checks, and the answers to what the parser refuses
    guardServer(this.#server, { allowedHosts, logger });
  }

  /** Serves `path` exactly. */
  route(path: string, route: Route): this {
    this.#exact.set(path, route);
    return this;
  }

  /** Offers every request to `handler` before the bearer check, in the order added. */
  front(handler: FrontHandler): this {
    this.#fronts.push(handler);
    return this;
  }

  /**
   * The API itself (bearer check, then the route table) as a plain request handler: what the
   * listener runs for a request no front handler took, and what a front handler may call to
   * reach the API in-process with the token added.
   */
  readonly dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    this.#handle(req, res).catch((err: unknown) => this.#refused(req, res, err));
  };

  #refused(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    // A refused request (unknown key, bad input) is the client's business, not a node fault.
    if (statusForCode(errorCode(err) ?? CODES.INTERNAL) >= 500) {
      this.#log.error({ err }, 'API handler failed');
    } else {
      this.#log.debug({ code: errorCode(err) }, 'API request refused');
    }
    sendError(res, err);
    discardBody(req);
  }

  /** Serves every path under `prefix` (the longest matching prefix wins). */
  mount(prefix: string, route: Route): this {
    this.#mounts.push({ prefix, route });
    this.#mounts.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
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
    let route = this.#exact.get(path);
    let rest = '';
    if (!route) {
      const mount = this.#mounts.find((m) => path.startsWith(m.prefix));
      if (mount) {
        route = mount.route;
        rest = path.slice(mount.prefix.length);
      }
    }
    if (!route) {
      discardBody(req);
      throw new NotFoundError(`no route ${path.slice(0, 200)}`);
    }
    const handler = route.methods[req.method ?? 'GET'];
    if (!handler) {
      const allow = route.allow ?? Object.keys(route.methods).join(', ');
      discardBody(req);
      const refusal = new MethodNotAllowedError(`use ${allow}`);
      sendJson(res, 405, { code: refusal.code, message: refusal.message }, { allow });
      return;
    }
    await handler(req, res, { path, query, rest });
  }
}
