// Forwards an authenticated console request to the node's API with the bearer token injected,
// streaming both bodies (backpressure by pipeline), over HTTP or to an in-process handler.

import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, UpstreamError } from './errors.js';

/** How the console reaches the node's API: its base URL, or a handler serving `/v1/*` in-process. */
export type Upstream = string | ((req: IncomingMessage, res: ServerResponse) => void);

/** Called with the API's status before its head is sent: returns headers to add (or remove: null). */
export type HeadHook = (status: number) => Record<string, string | null>;

/** Request headers the API reads; everything else (cookies, Origin, …) stays with the console. */
const FORWARD_REQUEST = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'range',
  'if-none-match',
  'if-match',
  'if-modified-since',
  'accept',
];
/** Response headers that belong to the hop or to the API's own auth, never to the browser. */
const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'set-cookie',
  'www-authenticate',
]);

export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse, path: string, hook?: HeadHook): Promise<void>;
  close(): void;
}

export function createForwarder(upstream: Upstream, apiToken: string): Forwarder {
  if (typeof upstream === 'function') return inProcess(upstream, apiToken);
  let base: URL;
  try {
    base = new URL(upstream);
  } catch (cause) {
    throw new InvalidArgumentError(`upstream is not a URL: ${upstream}`, { cause });
  }
  if (base.protocol !== 'http:') {
    throw new InvalidArgumentError(`upstream must be an http: URL, got ${base.protocol}`);
  }
  return overHttp(base, apiToken);
}

function requestHeaders(req: IncomingMessage, apiToken: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { authorization: `Bearer ${apiToken}` };
  for (const name of FORWARD_REQUEST) {
    const v = req.headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function responseHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, v] of Object.entries(h)) {
    if (v !== undefined && !DROP_RESPONSE.has(name)) out[name] = v;
  }
  return out;
}

function applyHook(headers: OutgoingHttpHeaders, status: number, hook?: HeadHook): void {
  if (!hook) return;
  for (const [name, v] of Object.entries(hook(status))) {
    if (v === null) delete headers[name];
    else headers[name] = v;
  }
}

function overHttp(base: URL, apiToken: string): Forwarder {
  // Keep-alive to one local listener: no handshake per request; closed with the console.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    close: () => agent.destroy(),
    forward(req, res, path, hook) {
      return new Promise<void>((resolve, reject) => {
        const up = request(
          {
            agent,
            hostname: base.hostname.replace(/^\[|\]$/g, ''),
            port: base.port || 80,
            method: req.method ?? 'GET',
            // the raw path: Node sends it as given, so encoded dot segments in keys stay keys
            path: prefix + path,
            headers: requestHeaders(req, apiToken),
          },
          (ures) => {
            const status = ures.statusCode ?? 502;
            if (status === 401) {
              ures.resume();
              reject(new UpstreamError("the node refused the console's API token"));
              return;
            }
            const headers = responseHeaders(ures.headers);
            applyHook(headers, status, hook);
            res.writeHead(status, headers);
            pipeline(ures, res).then(resolve, () => {
              res.destroy();
              resolve();
            });
          },
        );
        up.once('error', (cause) => {
          if (res.headersSent) {
            res.destroy();
            resolve();
          } else reject(new UpstreamError('the node API did not answer', { cause }));
        });
        // a browser that goes away (cancelled upload or download) ends the API request too
        res.once('close', () => {
          if (!res.writableFinished) up.destroy();
        });
        pipeline(req, up).catch(() => up.destroy());
      });
    },
  };
}

function inProcess(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  apiToken: string,
): Forwarder {
  return {
    close() {},
    async forward(req, res, path, hook) {
      const kept = requestHeaders(req, apiToken);
      // the node's own listener checks Host as well: the browser's Host is the one it must see
      if (req.headers.host) kept.host = req.headers.host;
      for (const name of Object.keys(req.headers)) delete req.headers[name];
      Object.assign(req.headers, kept);
      req.url = path;
      // the same head as over HTTP: hop and auth headers dropped, the caller's hook applied
      const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
      res.writeHead = ((status: number, ...rest: unknown[]) => {
        const given = rest.find((r) => typeof r === 'object' && r !== null && !Array.isArray(r));
        if (given) for (const name of DROP_RESPONSE) delete (given as OutgoingHttpHeaders)[name];
        for (const name of DROP_RESPONSE) if (name !== 'connection') res.removeHeader(name);
        for (const [name, v] of Object.entries(hook?.(status) ?? {})) {
          if (v === null) res.removeHeader(name);
          else res.setHeader(name, v);
        }
        return writeHead(status, ...rest);
      }) as ServerResponse['writeHead'];
      handler(req, res);
    },
  };
}
