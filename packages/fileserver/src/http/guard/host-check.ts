// Which Host and Origin headers a request may carry: the defence against DNS rebinding (a page
// on a name that now resolves to this node) and against cross-origin writes from a browser.

import { isIP } from 'node:net';

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), lowercased, without a final dot. */
export function hostName(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  let name: string;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1 || (end + 1 < h.length && !/^:\d{1,5}$/.test(h.slice(end + 1))))
      return undefined;
    name = h.slice(1, end);
    if (isIP(name) !== 6) return undefined;
  } else {
    const i = h.lastIndexOf(':');
    if (i !== -1 && !/^\d{1,5}$/.test(h.slice(i + 1))) return undefined;
    name = i === -1 ? h : h.slice(0, i);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : name;
}

/**
 * A Host this node answers to: an IP address (rebinding needs a name, so a browser that sends
 * an address is talking to that address), `localhost`, or a name the operator allowed.
 * A request without Host (HTTP/1.0; node:http answers an HTTP/1.1 one with 400) is no browser's.
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return true;
  const name = hostName(header);
  if (name === undefined) return false;
  return isIP(name) !== 0 || name === 'localhost' || allowed.has(name);
}

/** Methods a browser may send cross-origin without asking: they must change nothing. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request from a browser page of another origin. Browsers send `Origin` on
 * every non-GET fetch and form post; `Sec-Fetch-Site` covers the rest. Non-browser clients send
 * neither and pass.
 */
export function crossOriginWrite(
  method: string | undefined,
  headers: { host?: string; origin?: string; 'sec-fetch-site'?: string | string[] },
  allowedOrigins: ReadonlySet<string>,
): boolean {
  if (SAFE_METHODS.has(method ?? 'GET')) return false;
  const origin = headers.origin;
  if (origin !== undefined) {
    if (allowedOrigins.has(origin.toLowerCase())) return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return true; // 'null' (sandboxed frames, file:) and anything unparsable
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return true;
    return url.host !== normalHost(headers.host, url.protocol);
  }
  const site = headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** The Host header as URL.host spells it (lowercase, default port dropped), to compare with an origin's. */
function normalHost(host: string | undefined, protocol: string): string | undefined {
  if (host === undefined) return undefined;
  try {
    return new URL(`${protocol}//${host.trim()}`).host;
  } catch {
    return undefined;
  }
}
