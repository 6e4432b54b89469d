// The console's browser-facing defences: response headers (CSP and friends), the Host check
// against DNS rebinding, the same-origin check on state-changing requests, and the session cookie.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/** For the console's own pages: its scripts and styles only, never framed, no inline code. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  // every DOM sink that parses HTML throws: a file name can only ever become text
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** For API answers and file bytes: nothing in them may run or load anything, even if opened. */
export const DATA_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export function setCommonHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('content-security-policy', csp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=()');
}

/** The host name of a Host header without its port ('[::1]:8080' → '::1'), lower-cased. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? undefined : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * A DNS-rebinding page reaches the console under the attacker's name, so only names that cannot
 * be rebound are served: IP literals, `localhost` (and `*.localhost`), and the names given.
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const name = hostName(header);
  if (!name) return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowed.has(name.replace(/\.$/, ''));
}

/**
 * Browsers send Origin on every state-changing fetch and XHR, and Sec-Fetch-Site where they know
 * it; either naming another origin refuses the request before the CSRF token is even looked at.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || origin === 'null') return false;
  const host = req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/**
 * Cookies are not scoped by port, so two nodes on one machine would overwrite each other's
 * session: the name is derived from the node's API token (one-way), unique per node.
 */
export function cookieNameFor(apiToken: string): string {
  const tag = createHash('sha256').update(`peerstash/ui-cookie\0${apiToken}`).digest('hex');
  return `peerstash_ui_${tag.slice(0, 12)}`;
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(name: string, id: string, maxAgeMs: number, secure: boolean): string {
  const attrs = [
    `${name}=${id}`,
    'Path=/ui',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

export function clearedCookie(name: string, secure: boolean): string {
  return sessionCookie(name, '', 0, secure);
}
