import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import { pattern, patternSha, sha256Of, startNode, tempDir, waitFor, walk } from './helpers.js';

const run = promisify(execFile);

/** Sends raw bytes over a socket; resolves with whatever the server answered before closing. */
function rawHttp(base: string, text: string, timeoutMs = 10_000): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname);
    let out = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(out);
    };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('error', done);
    s.on('close', done);
    s.write(text);
  });
}

describe('HTTP control API', () => {
  let dirs: string[];
  let a: FileServer;
  let b: FileServer;
  let base: string;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    dirs = [await tempDir('api-a'), await tempDir('api-b')];
    const vaultKey = randomBytes(32);
    const clusterSecret = randomBytes(32);
    a = await startNode({ dataDir: dirs[0]!, vaultKey, clusterSecret, api: true });
    b = await startNode({ dataDir: dirs[1]!, vaultKey, clusterSecret, bootstrap: [a.address!] });
    await waitFor('link', async () => (await a.status()).peers.length === 1);
    const info = await readApiInfo(dirs[0]!);
    base = info!.url;
    token = info!.token;
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('writes api.json and a 0600 token into the data dir', async () => {
    expect(base).toBe(a.apiUrl);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stat(join(dirs[0]!, 'api-token'))).mode & 0o777).toBe(0o600);
  });

  it('answers 401 without the token, with a wrong one, on every route', async () => {
    for (const path of ['/v1/status', '/v1/files', '/v1/files/x', '/metrics', '/nope']) {
      const variants: Record<string, string>[] = [
        {},
        { authorization: 'Bearer nope' },
        { authorization: token },
      ];
      for (const headers of variants) {
        const res = await fetch(`${base}${path}`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(await res.json()).toMatchObject({ code: 'ERR_AUTH' });
      }
    }
  });

  it('PUT streams a body in, GET streams it out, HEAD and list describe it', async () => {
    const size = 5 * 1024 * 1024 + 11;
    const key = 'dir/with spaces/ü.bin';
    const url = `${base}/v1/files/${encodeURIComponent(key)}`;
    const put = await fetch(url, {
      method: 'PUT',
      headers: auth(),
      body: Readable.toWeb(Readable.from(pattern('api', size))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ key, size, replicas: 1 });

    const head = await fetch(url, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(size));

    const get = await fetch(url, { headers: auth() });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-length')).toBe(String(size));
    expect(await sha256Of(get.body as unknown as AsyncIterable<Uint8Array>)).toBe(
      await patternSha('api', size),
    );

    const list = await fetch(`${base}/v1/files`, { headers: auth() });
    const { files } = (await list.json()) as { files: Array<{ key: string; size: number }> };
    expect(files).toContainEqual(expect.objectContaining({ key, size }));
    // and the replica on b reads back the same
    expect(await sha256Of(await b.get(key))).toBe(await patternSha('api', size));
  });

  it('DELETE removes the file, with everywhere=1 from peers too', async () => {
    const url = `${base}/v1/files/gone`;
    expect((await fetch(url, { method: 'PUT', headers: auth(), body: 'bye' })).status).toBe(201);
    const del = await fetch(`${url}?everywhere=1`, { method: 'DELETE', headers: auth() });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ deleted: true, peers: 1 });
    expect(await b.has('gone')).toBe(false);
    const again = await fetch(url, { method: 'DELETE', headers: auth() });
    expect(again.status).toBe(404);
    const get = await fetch(url, { headers: auth() });
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const head = await fetch(url, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(404);
  });

  it('POST /v1/scrub starts a pass whose result status reports; other methods get 405', async () => {
    const asked = Date.now();
    const r = await fetch(`${base}/v1/scrub`, { method: 'POST', headers: auth() });
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ started: true });
    await waitFor('scrub pass', async () => {
      const st = (await (await fetch(`${base}/v1/status`, { headers: auth() })).json()) as {
        scrubInProgress: boolean;
        lastScrubAt: number | null;
      };
      return !st.scrubInProgress && (st.lastScrubAt ?? 0) >= asked;
    });
    const st = await a.status();
    expect(st.lastScrub).toMatchObject({ checked: (await a.list()).length, rotten: 0 });
    const get = await fetch(`${base}/v1/scrub`, { headers: auth() });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${base}/v1/scrub`, { method: 'POST' })).status).toBe(401);
  });

  it('status and metrics', async () => {
    const st = (await (await fetch(`${base}/v1/status`, { headers: auth() })).json()) as Record<
      string,
      unknown
    >;
    expect(st).toMatchObject({ nodeId: a.nodeId, listen: a.address, storageOnly: false });
    expect(st.peers).toHaveLength(1);
    const m = await fetch(`${base}/metrics`, { headers: auth() });
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await m.text();
    for (const name of [
      'peerstash_bytes_in_total',
      'peerstash_bytes_out_total',
      'peerstash_puts_total',
      'peerstash_gets_total',
      'peerstash_integrity_failures_total',
      'peerstash_peers 1',
      'peerstash_transfer_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('bad key encodings, oversized headers and garbage get 4xx, and the node stays up', async () => {
    const h = `Authorization: Bearer ${token}\r\n`;
    const badKey = await rawHttp(
      base,
      `GET /v1/files/%ZZ%E0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}\r\n`,
    );
    expect(badKey).toMatch(/^HTTP\/1\.1 400/);
    expect(badKey).toContain('"code":"ERR_INVALID_KEY"');
    const badUtf8 = await rawHttp(
      base,
      `PUT /v1/files/%C3%28 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}Content-Length: 1\r\n\r\nx`,
    );
    expect(badUtf8).toMatch(/^HTTP\/1\.1 400/);
    const longUrl = await rawHttp(
      base,
      `GET /v1/files/${'k'.repeat(70_000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}\r\n`,
    );
    expect(longUrl).toMatch(/^HTTP\/1\.1 431/);
    const bigHeader = await rawHttp(
      base,
      `GET /v1/status HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(100_000)}\r\n${h}\r\n`,
    );
    expect(bigHeader).toMatch(/^HTTP\/1\.1 431/);
    expect(bigHeader).toContain('"code":"ERR_LIMIT"');
    const longKey = await rawHttp(
      base,
      `GET /v1/files/${'k'.repeat(5000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}\r\n`,
    );
    expect(longKey).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawHttp(base, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const empty = await rawHttp(
      base,
      `GET /v1/files/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}\r\n`,
    );
    expect(empty).toMatch(/^HTTP\/1\.1 400/);
    const route = await fetch(`${base}/v2/nothing`, { headers: auth() });
    expect(route.status).toBe(404);
    const method = await fetch(`${base}/v1/files/x`, { method: 'POST', headers: auth() });
    expect(method.status).toBe(405);
    expect((await fetch(`${base}/v1/status`, { headers: auth() })).status).toBe(200);
  });

  it('a refused PUT with a large body gets its answer, not a reset, and the connection lives on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.alloc(16 * 1024 * 1024, 1);
    const put = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; code: string; socket: unknown }>((resolve, reject) => {
        const req = request(`${base}${path}`, { method: 'PUT', agent, headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              code: JSON.parse(Buffer.concat(parts).toString('utf8')).code,
              socket: req.socket,
            }),
          );
        });
        req.on('error', reject);
        // the whole body goes out in pieces while the node has already refused it
        for (let i = 0; i < body.length; i += 256 * 1024)
          req.write(body.subarray(i, i + 256 * 1024));
        req.end();
      });
    try {
      const refusals = [
        ['/v1/files/x', { authorization: 'Bearer wrong' }, 401, 'ERR_AUTH'],
        ['/v1/files/bad%zz', auth(), 400, 'ERR_INVALID_KEY'],
        [`/v1/files/${'k'.repeat(5000)}`, auth(), 400, 'ERR_INVALID_KEY'],
        ['/v1/status', auth(), 405, 'ERR_METHOD'],
      ] as const;
      const sockets = new Set<unknown>();
      for (const [path, headers, status, code] of refusals) {
        const r = await put(path, headers);
        expect([r.status, r.code]).toEqual([status, code]);
        sockets.add(r.socket);
      }
      // the refused bodies were read to the end: one kept-alive connection served every request
      expect(sockets.size).toBe(1);
      expect(await a.has('x')).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('a body that stops arriving is abandoned and nothing is stored', async () => {
    const h = `Authorization: Bearer ${token}\r\n`;
    // the client closes after 1 s with the body unfinished
    await rawHttp(
      base,
      `PUT /v1/files/loris HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${h}Content-Length: 1000000\r\n\r\nabc`,
      1000,
    );
    await waitFor('upload abandoned', async () => !(await a.has('loris')));
    const get = await fetch(`${base}/v1/files/loris`, { headers: auth() });
    expect(get.status).toBe(404);
  });

  it('a client that goes away mid-body does not hurt the node, and nothing half-stored stays', async () => {
    const size = 8 * 1024 * 1024;
    const url = `${base}/v1/files/abandoned-download`;
    const put = await fetch(url, {
      method: 'PUT',
      headers: auth(),
      body: Readable.toWeb(Readable.from(pattern('abandon', size))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(put.status).toBe(201);
    // download: read a little, then drop the connection
    const ac = new AbortController();
    const res = await fetch(url, { headers: auth(), signal: ac.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    ac.abort();
    await reader.closed.catch(() => {});
    // upload: send part of a body, then drop the connection
    const up = new AbortController();
    let sent = 0;
    async function* partial() {
      for await (const c of pattern('partial', size)) {
        sent += c.length;
        if (sent > size / 2) {
          up.abort();
          return;
        }
        yield c;
      }
    }
    await fetch(`${base}/v1/files/abandoned-upload`, {
      method: 'PUT',
      headers: auth(),
      body: Readable.toWeb(Readable.from(partial())) as ReadableStream,
      duplex: 'half',
      signal: up.signal,
    } as RequestInit).catch(() => {});
    await waitFor('upload abandoned', async () => !(await a.has('abandoned-upload')));
    await waitFor('no temp files', async () =>
      (await walk(join(dirs[0]!, 'blobs'))).every((p) => !p.endsWith('.tmp')),
    );
    const again = await fetch(url, { headers: auth() });
    expect(await sha256Of(again.body as unknown as AsyncIterable<Uint8Array>)).toBe(
      await patternSha('abandon', size),
    );
  });

  it('works with curl', async () => {
    const file = join(dirs[0]!, 'curl-upload.bin');
    await writeFile(file, randomBytes(300_000));
    const hdr = `Authorization: Bearer ${token}`;
    const url = `${base}/v1/files/${encodeURIComponent('curl/file name')}`;
    const put = await run('curl', ['-sS', '-f', '-H', hdr, '-T', file, url]);
    expect(JSON.parse(put.stdout)).toMatchObject({ size: 300_000 });
    const out = join(dirs[0]!, 'curl-download.bin');
    await run('curl', ['-sS', '-f', '-H', hdr, '-o', out, url]);
    expect((await readFile(out)).equals(await readFile(file))).toBe(true);
    const unauth = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
    expect(unauth.stdout).toBe('401');
    await rm(file);
    await rm(out);
  });

  it('removes api.json on stop', async () => {
    const dir = await tempDir('api-stop');
    const n = await startNode({ dataDir: dir, api: true });
    expect(await readApiInfo(dir)).toBeDefined();
    await n.stop();
    expect(await readApiInfo(dir)).toBeUndefined();
    await rm(dir, { recursive: true, force: true });
  });
});
