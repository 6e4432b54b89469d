import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_TOKEN, type Rig, raw, signIn, startRig } from '../test/fixture.js';
import { attachmentHeader, createConsole } from './console.js';

for (const mode of ['url', 'function'] as const) {
  describe(`console in front of the API (${mode} upstream)`, () => {
    let rig: Rig;
    beforeEach(async () => {
      rig = await startRig(mode);
    });
    afterEach(() => rig.close());

    it('leaves paths outside /ui to the node', async () => {
      for (const p of ['/', '/v1/status', '/uix', '/metrics']) {
        const r = await raw(rig.url, p);
        expect(r.body.toString()).toBe('not the console');
      }
      expect(rig.seen).toHaveLength(0);
    });

    it('issues a one-time sign-in link only to the API token, and it works once', async () => {
      const refused = await raw(rig.url, '/ui/sign-in-tokens', {
        method: 'POST',
        headers: { authorization: 'Bearer wrong-token-wrong-token!' },
      });
      expect(refused.status).toBe(401);
      const r = await raw(rig.url, '/ui/sign-in-tokens', {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(r.status).toBe(201);
      const issued = JSON.parse(r.body.toString()) as { url: string; path: string; token: string };
      expect(issued.url).toBe(`${rig.url}${issued.path}`);
      expect(issued.path).toBe(`/ui/sign-in?t=${issued.token}`);
      expect(issued.url).not.toContain(API_TOKEN);

      const first = await raw(rig.url, issued.path);
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe('/ui/');
      const cookie = String(first.headers['set-cookie']?.[0]);
      expect(cookie).toMatch(/^peerstash_ui_[0-9a-f]{12}=[A-Za-z0-9_-]{43}; /);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Path=/ui');
      expect(cookie).toMatch(/Max-Age=\d+/);
      expect(cookie).not.toContain(issued.token);

      const again = await raw(rig.url, issued.path);
      expect(again.status).toBe(401);
      expect(again.headers['set-cookie']).toBeUndefined();
      expect(again.body.toString()).toContain('peerstash ui');
      expect((await raw(rig.url, '/ui/sign-in?t=made-up')).status).toBe(401);
    });

    it('forwards with the bearer token injected and the cookie withheld', async () => {
      const { cookie } = await signIn(rig);
      const r = await raw(rig.url, '/ui/api/v1/status?x=1', { headers: { cookie } });
      expect(r.status).toBe(200);
      expect(rig.seen).toHaveLength(1);
      expect(rig.seen[0]).toMatchObject({
        method: 'GET',
        url: '/v1/status?x=1',
        authorization: `Bearer ${API_TOKEN}`,
        cookie: undefined,
      });
      expect(r.body.toString()).not.toContain(API_TOKEN);
      const m = await raw(rig.url, '/ui/api/metrics', { headers: { cookie } });
      expect(m.body.toString()).toContain('peerstash_bytes_in_total');
      expect(r.headers['content-security-policy']).toContain('sandbox');
    });

    it('refuses API calls without a session cookie or with a made-up one', async () => {
      for (const headers of [{}, { cookie: 'peerstash_ui_000000000000=abc' }]) {
        const r = await raw(rig.url, '/ui/api/v1/status', { headers });
        expect(r.status).toBe(401);
        expect(JSON.parse(r.body.toString()).code).toBe('ERR_AUTH');
        expect((await raw(rig.url, '/ui/session', { headers })).status).toBe(401);
      }
      expect(rig.seen).toHaveLength(0);
    });

    it('streams an upload through only with the CSRF token, from the same origin', async () => {
      const { cookie, csrf } = await signIn(rig);
      const body = randomBytes(3 * 1024 * 1024 + 5);
      const put = (headers: Record<string, string>) =>
        raw(rig.url, `/ui/api/file?key=${encodeURIComponent('a dir/b.txt')}`, {
          method: 'PUT',
          headers: { cookie, host: `127.0.0.1:${rig.port}`, ...headers },
          body,
        });
      const none = await put({});
      expect(none.status).toBe(403);
      expect(JSON.parse(none.body.toString()).code).toBe('ERR_CSRF');
      expect((await put({ 'x-csrf-token': `${csrf.slice(0, -1)}x` })).status).toBe(403);
      const crossOrigin = await put({ 'x-csrf-token': csrf, origin: 'http://evil.example' });
      expect(crossOrigin.status).toBe(403);
      const crossSite = await put({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' });
      expect(crossSite.status).toBe(403);
      expect(rig.seen).toHaveLength(0);

      const ok = await put({ 'x-csrf-token': csrf, origin: `http://127.0.0.1:${rig.port}` });
      expect(ok.status).toBe(201);
      expect(rig.seen).toHaveLength(1);
      expect(rig.seen[0]).toMatchObject({
        method: 'PUT',
        url: '/v1/files/a%20dir%2Fb.txt',
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        origin: undefined,
      });
    });

    it('deletes everywhere only when asked, and needs the CSRF token for it', async () => {
      const { cookie, csrf } = await signIn(rig);
      const del = (q: string, token?: string) =>
        raw(rig.url, `/ui/api/file?key=k${q}`, {
          method: 'DELETE',
          headers: token ? { cookie, 'x-csrf-token': token } : { cookie },
        });
      expect((await del('&everywhere=1')).status).toBe(403);
      expect((await del('&everywhere=1', csrf)).status).toBe(200);
      expect((await del('', csrf)).status).toBe(200);
      expect(rig.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
        'DELETE /v1/files/k?everywhere=1',
        'DELETE /v1/files/k',
      ]);
    });

    it('names downloads as attachments, but not an error answer', async () => {
      const { cookie } = await signIn(rig);
      const key = 'docs/<img src=x onerror=alert(1)>.txt';
      const ok = await raw(rig.url, `/ui/api/file?key=${encodeURIComponent(key)}&download=1`, {
        headers: { cookie },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toBe(`bytes of ${key}`);
      expect(ok.headers['content-disposition']).toBe(attachmentHeader(key));
      expect(ok.headers['set-cookie']).toBeUndefined();
      expect(ok.headers['x-content-type-options']).toBe('nosniff');
      const missing = await raw(rig.url, '/ui/api/file?key=missing&download=1', {
        headers: { cookie },
      });
      expect(missing.status).toBe(404);
      expect(missing.headers['content-disposition']).toBeUndefined();
      expect(JSON.parse(missing.body.toString()).code).toBe('ERR_NOT_FOUND');
      const noKey = await raw(rig.url, '/ui/api/file', { headers: { cookie } });
      expect(noKey.status).toBe(400);
    });

    it('keeps keys with dot segments as keys', async () => {
      const { cookie } = await signIn(rig);
      for (const key of ['..', '.', '../etc/passwd', 'a/./b']) {
        await raw(rig.url, `/ui/api/file?key=${encodeURIComponent(key)}`, { headers: { cookie } });
      }
      expect(rig.seen.map((s) => s.url)).toEqual([
        '/v1/files/..',
        '/v1/files/.',
        '/v1/files/..%2Fetc%2Fpasswd',
        '/v1/files/a%2F.%2Fb',
      ]);
    });

    it('refuses Host names that could be rebound, serves IPs, localhost and allowed names', async () => {
      const { cookie } = await signIn(rig);
      const at = (host: string) => raw(rig.url, '/ui/session', { headers: { cookie, host } });
      expect((await at('evil.example')).status).toBe(421);
      expect((await at('evil.example:80')).status).toBe(421);
      expect((await at(`127.0.0.1:${rig.port}`)).status).toBe(200);
      expect((await at(`localhost:${rig.port}`)).status).toBe(200);
      expect((await at(`[::1]:${rig.port}`)).status).toBe(200);
      expect((await raw(rig.url, '/ui/', { headers: { host: 'evil.example' } })).status).toBe(421);
    });

    it('ends every session on revoke, by the API route or the function', async () => {
      const a = await signIn(rig);
      const b = await signIn(rig);
      expect(rig.console.sessionCount).toBe(2);
      const r = await raw(rig.url, '/ui/revoke', {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(JSON.parse(r.body.toString())).toEqual({ sessions: 2 });
      for (const s of [a, b]) {
        expect((await raw(rig.url, '/ui/session', { headers: { cookie: s.cookie } })).status).toBe(
          401,
        );
      }
      const c = await signIn(rig);
      const pending = rig.console.issueSignInToken();
      expect(rig.console.revokeAll()).toBe(1);
      expect((await raw(rig.url, '/ui/session', { headers: { cookie: c.cookie } })).status).toBe(
        401,
      );
      expect((await raw(rig.url, pending.path)).status).toBe(401);
    });

    it('signs out one session with its CSRF token', async () => {
      const a = await signIn(rig);
      const b = await signIn(rig);
      const noToken = await raw(rig.url, '/ui/sign-out', {
        method: 'POST',
        headers: { cookie: a.cookie },
      });
      expect(noToken.status).toBe(403);
      const out = await raw(rig.url, '/ui/sign-out', {
        method: 'POST',
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
      });
      expect(out.status).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(
        /=; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=0/,
      );
      expect((await raw(rig.url, '/ui/session', { headers: { cookie: a.cookie } })).status).toBe(
        401,
      );
      expect((await raw(rig.url, '/ui/session', { headers: { cookie: b.cookie } })).status).toBe(
        200,
      );
    });

    it('serves the app with a strict CSP, and nothing but its build', async () => {
      const page = await raw(rig.url, '/ui/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      const html = page.body.toString();
      expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toContain(API_TOKEN);
      const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      const js = await raw(rig.url, script!);
      expect(js.status).toBe(200);
      expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(js.headers['cache-control']).toContain('immutable');
      expect((await raw(rig.url, '/ui')).headers.location).toBe('/ui/');
      for (const p of ['/ui/assets/../../package.json', '/ui/assets/nope.js', '/ui/nope']) {
        expect((await raw(rig.url, p)).status).toBe(404);
      }
      expect((await raw(rig.url, '/ui/', { method: 'POST' })).status).toBe(405);
    });
  });
}

describe('console and an upstream in trouble', () => {
  let rig: Rig | undefined;
  afterEach(() => rig?.close());

  it('answers 502 when the API is down, or refuses the token (not 401: the session is fine)', async () => {
    rig = await startRig('url');
    const { cookie } = await signIn(rig);
    const refused = await raw(rig.url, '/ui/api/file?key=refuse-token', { headers: { cookie } });
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body.toString()).code).toBe('ERR_UPSTREAM');

    const dead = createConsole({ apiToken: API_TOKEN, upstream: 'http://127.0.0.1:1' });
    const { createServer } = await import('node:http');
    const front = createServer((req, res) => void dead.handle(req, res));
    const { listen } = await import('../test/fixture.js');
    const url = await listen(front);
    const issued = dead.issueSignInToken();
    const r = await raw(url, issued.path);
    const c = String(r.headers['set-cookie']?.[0]).split(';')[0]!;
    const down = await raw(url, '/ui/api/v1/status', { headers: { cookie: c } });
    expect(down.status).toBe(502);
    expect(JSON.parse(down.body.toString()).code).toBe('ERR_UPSTREAM');
    dead.close();
    front.closeAllConnections();
    front.close();
  });

  it('ends the API request when the browser abandons a download', async () => {
    rig = await startRig('url');
    const { cookie } = await signIn(rig);
    const u = new URL(rig.url);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, path: '/ui/api/file?key=endless', headers: { cookie } },
        (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (got > 1024 * 1024) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.once('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    const deadline = Date.now() + 5000;
    while (!rig.seen[0]?.closedEarly && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(rig.seen[0]?.closedEarly).toBe(true);
  });

  it('needs a real API token and an http upstream', () => {
    expect(() => createConsole({ apiToken: 'short', upstream: 'http://127.0.0.1:1' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createConsole({ apiToken: API_TOKEN, upstream: 'ftp://x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
