// The app's calls to its node: everything goes to /ui/… on the same origin with the session
// cookie; state-changing calls add the session's CSRF token. A 401 means the session is over.

export interface SessionInfo {
  csrf: string;
  signedInAt: number;
  expiresAt: number;
  idleMs: number;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrf = '';
const signedOutListeners = new Set<() => void>();

export function onSignedOut(fn: () => void): () => void {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

function signedOut(): void {
  csrf = '';
  for (const fn of signedOutListeners) fn();
}

export function csrfToken(): string {
  return csrf;
}

/** Reads `{ code, message }` from a refused answer, whatever shape it came in. */
export async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `${res.status} ${res.statusText}`.trim();
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the status line says it
  }
  return new ApiError(res.status, code, message);
}

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  if (method !== 'GET' && method !== 'HEAD') headers.set('x-csrf-token', csrf);
  const res = await fetch(path, {
    ...init,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 401) {
    signedOut();
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call(path)).json()) as T;
}

/** The session behind the cookie, or null when not signed in. */
export async function loadSession(): Promise<SessionInfo | null> {
  const res = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 401) return null;
  if (!res.ok) throw await errorOf(res);
  const s = (await res.json()) as SessionInfo;
  csrf = s.csrf;
  return s;
}

export async function signOut(): Promise<void> {
  await call('/ui/sign-out', { method: 'POST' }).catch(() => undefined);
  signedOut();
}

/** Where a file is read, written and deleted (the key travels as a query, dots and all). */
export function fileUrl(
  key: string,
  opts: { download?: boolean; everywhere?: boolean } = {},
): string {
  let url = `/ui/api/file?key=${encodeURIComponent(key)}`;
  if (opts.download) url += '&download=1';
  if (opts.everywhere) url += '&everywhere=1';
  return url;
}

export function listUrl(prefix: string, after: string | null, limit: number): string {
  const q = new URLSearchParams({ all: '1', prefix, delimiter: '/', limit: String(limit) });
  if (after) q.set('after', after);
  return `/ui/api/v1/files?${q}`;
}
