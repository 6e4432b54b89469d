// The control API behind its guard, on a real node: Host and Origin checks, and answers to
// malformed bodies with nothing stored (the guard's own units are tested in src/http/guard).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FileServer, readApiInfo } from '../src/index.js';
import { startNode, tempDir } from './helpers.js';

/** Writes `text` at once and collects what the node answers until it closes the connection. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close; got ${out.slice(0, 200)}`));
    }, 15_000);
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.write(text);
  });
}

describe('HTTP control API guard', () => {
  let dir: string;
  let node: FileServer;
  let port: number;
  let token: string;

  beforeAll(async () => {
    dir = await tempDir('api-guard');
    node = await startNode({
      dataDir: dir,
      vaultKey: randomBytes(32),
      api: true,
      apiAllowedHosts: ['peerstash.home.arpa'],
    });
    const info = (await readApiInfo(dir))!;
    port = info.port;
    token = info.token;
  });
  afterAll(async () => {
    await node?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (method: string, path: string, host: string, extra = '', body = '') =>
    `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
    `Connection: close\r\n${extra}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n${body}`;

  it('a rebinding Host is refused with 421 before the token is even looked at; the right Host is served', async () => {
    const refused = await raw(port, request('GET', '/v1/status', `attacker.example:${port}`));
    expect(refused).toMatch(/^HTTP\/1\.1 421 /);
    expect(refused).toContain('"code":"ERR_HOST_NOT_ALLOWED"');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `peerstash.home.arpa:${port}`]) {
      expect(await raw(port, request('GET', '/v1/status', host))).toMatch(/^HTTP\/1\.1 200 /);
    }
    const put = await raw(
      port,
      request('PUT', '/v1/files/rebound', `attacker.example:${port}`, '', 'evil'),
    );
    expect(put).toMatch(/^HTTP\/1\.1 421 /);
    expect(await node.has('rebound')).toBe(false);
  });

  it('a cross-origin write is refused with 403 and stores nothing', async () => {
    const host = `127.0.0.1:${port}`;
    const put = await raw(
      port,
      request('PUT', '/v1/files/csrf', host, 'Origin: http://attacker.example\r\n', 'evil'),
    );
    expect(put).toMatch(/^HTTP\/1\.1 403 /);
    expect(put).toContain('"code":"ERR_CROSS_ORIGIN"');
    expect(await node.has('csrf')).toBe(false);
    const same = await raw(
      port,
      request('PUT', '/v1/files/same', host, `Origin: http://${host}\r\n`, 'fine'),
    );
    expect(same).toMatch(/^HTTP\/1\.1 201 /);
    expect(await node.has('same')).toBe(true);
  });

  it('a malformed chunked body gets 400 and nothing is stored', async () => {
    const host = `127.0.0.1:${port}`;
    const head = request('PUT', '/v1/files/chunky', host, 'Transfer-Encoding: chunked\r\n');
    const badSize = await raw(port, `${head}5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n`);
    expect(badSize).toMatch(/^HTTP\/1\.1 400 /);
    expect(badSize).toContain('"code":"ERR_BAD_REQUEST"');
    const longExt = await raw(port, `${head}5;${'x'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`);
    expect(longExt).toMatch(/^HTTP\/1\.1 400 /);
    await new Promise((r) => setTimeout(r, 300));
    expect(await node.has('chunky')).toBe(false);
  });

  it('a valid PUT followed by garbage in the same write gets 400 and is not stored', async () => {
    const valid = request('PUT', '/v1/files/trailing', `127.0.0.1:${port}`, '', 'hello').replace(
      'Connection: close\r\n',
      '',
    );
    const answer = await raw(port, `${valid}\u0000GARBAGE\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await new Promise((r) => setTimeout(r, 300));
    expect(await node.has('trailing')).toBe(false);
    // and the node goes on serving
    expect(await raw(port, request('GET', '/v1/status', `localhost:${port}`))).toMatch(
      /^HTTP\/1\.1 200 /,
    );
  });
});
