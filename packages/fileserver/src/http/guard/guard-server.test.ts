import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type GuardOptions, guardServer } from './guard-server.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** What the test handler saw: a body is "kept" only once it ended cleanly and the response went out. */
interface Seen {
  requests: number;
  kept: number[];
}

/** A real server on 127.0.0.1:0 whose handler reads the whole body and answers 201 with its size. */
async function start(options: GuardOptions = {}, readDelayMs = 0) {
  const seen: Seen = { requests: 0, kept: [] };
  const server = createServer(
    { maxHeaderSize: 16 * 1024 },
    (req: IncomingMessage, res: ServerResponse) => {
      seen.requests++;
      let bytes = 0;
      let gone = false;
      res.once('close', () => {
        gone = !res.writableFinished;
      });
      const read = () => {
        req.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        req.once('end', () =>
          // a handler that commits a moment after the body ended, as a store does
          setTimeout(() => {
            if (gone || res.destroyed) return;
            seen.kept.push(bytes);
            res.writeHead(201, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ bytes }));
          }, 50),
        );
      };
      if (readDelayMs > 0) setTimeout(read, readDelayMs);
      else read();
    },
  );
  guardServer(server, options);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen };
}

/** Sends `chunks` (with a pause before each), then collects everything until the server closes. */
function exchange(port: number, chunks: Array<string | Buffer>, gapMs = 0, timeoutMs = 20_000) {
  return new Promise<{ text: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${text.slice(0, 200)}`));
    }, timeoutMs);
    s.on('data', (c) => {
      text += c.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      done = true;
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - started });
    });
    s.on('connect', async () => {
      for (const c of chunks) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (done) return;
        s.write(c);
      }
    });
  });
}

function status(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

function body(text: string): Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

const put = (host: string, extra = '', payload = 'hello') =>
  `PUT /v1/files/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n${extra}\r\n${payload}`;

describe('guardServer: Host (DNS rebinding)', () => {
  it('refuses a Host that is not an address, localhost or an allowed name with 421 and a JSON error', async () => {
    const { port, seen } = await start({ allowedHosts: ['nas.lan'] });
    const { text } = await exchange(port, [put(`rebind.evil.example:${port}`)]);
    expect(status(text)).toBe(421);
    expect(body(text)).toEqual({
      code: 'ERR_HOST_NOT_ALLOWED',
      message: expect.stringContaining('rebind.evil.example'),
    });
    expect(seen.requests).toBe(0);
  });

  it('serves the listener’s own address, localhost, [::1] and the allowed names', async () => {
    const { port, seen } = await start({ allowedHosts: ['NAS.lan'] });
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `nas.lan:${port}`,
      'Nas.Lan.',
    ]) {
      const { text } = await exchange(port, [put(host)]);
      expect(status(text), host).toBe(201);
    }
    expect(seen.kept).toEqual([5, 5, 5, 5, 5]);
  });
});

describe('guardServer: Origin on state-changing requests', () => {
  it('refuses a cross-origin write with 403; same-origin writes and cross-origin reads pass', async () => {
    const { port, seen } = await start();
    const host = `127.0.0.1:${port}`;
    const refused = await exchange(port, [put(host, 'Origin: http://evil.example\r\n')]);
    expect(status(refused.text)).toBe(403);
    expect(body(refused.text)).toMatchObject({ code: 'ERR_CROSS_ORIGIN' });
    expect(status((await exchange(port, [put(host, 'Sec-Fetch-Site: cross-site\r\n')])).text)).toBe(
      403,
    );
    expect(seen.requests).toBe(0);

    expect(status((await exchange(port, [put(host, `Origin: http://${host}\r\n`)])).text)).toBe(
      201,
    );
    const read = `GET / HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n`;
    expect(status((await exchange(port, [read])).text)).toBe(201);
  });
});

describe('guardServer: minimum body rate', () => {
  const bodyRate = { bytesPerSec: 16 * 1024, windowMs: 1500, tickMs: 100 };

  it('a body trickling in (1 byte every 300 ms) is answered 408 and closed within the bound; nothing kept', async () => {
    const { port, seen } = await start({ bodyRate });
    const head = `PUT /v1/files/k HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1000\r\n\r\n`;
    const { text, ms } = await exchange(
      port,
      [head, ...Array.from({ length: 100 }, () => 'x')],
      300,
    );
    expect(status(text)).toBe(408);
    expect(body(text)).toMatchObject({ code: 'ERR_TIMEOUT' });
    // grace (one window) + one window of samples at most, plus scheduling slack
    expect(ms).toBeLessThan(1500 + 1500 + 2000);
    expect(ms).toBeGreaterThanOrEqual(1500);
    expect(seen.requests).toBe(1);
    expect(seen.kept).toEqual([]);
  });

  it('a slow but real link (64 KiB/s for 4 s) completes', async () => {
    const { port, seen } = await start({ bodyRate });
    const piece = Buffer.alloc(6554, 'y'); // 64 KiB/s in 100 ms steps
    const total = piece.length * 40;
    const head = `PUT /v1/files/k HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`;
    const { text } = await exchange(port, [head, ...Array.from({ length: 40 }, () => piece)], 100);
    expect(status(text)).toBe(201);
    expect(seen.kept).toEqual([total]);
  });

  it('a fast client held back by a slow handler is not the client’s fault', async () => {
    const { port, seen } = await start({ bodyRate }, 3000); // the handler reads nothing for 3 s
    const total = 4 * 1024 * 1024;
    const head = `PUT /v1/files/k HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`;
    const { text } = await exchange(port, [head, Buffer.alloc(total, 'z')]);
    expect(status(text)).toBe(201);
    expect(seen.kept).toEqual([total]);
  });
});

describe('guardServer: what the parser refuses gets a status line, and nothing is kept', () => {
  const chunked = (port: number, rest: string) =>
    `PUT /v1/files/k HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\n\r\n${rest}`;

  it('a bad chunk size mid-body: 400', async () => {
    const { port, seen } = await start();
    const { text } = await exchange(port, [chunked(port, '5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n')]);
    expect(status(text)).toBe(400);
    expect(body(text)).toEqual({ code: 'ERR_BAD_REQUEST', message: 'malformed HTTP request' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.kept).toEqual([]);
  });

  it('a 20 KB chunk extension: 400', async () => {
    const { port, seen } = await start();
    const { text } = await exchange(port, [
      chunked(port, `5;${'e'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`),
    ]);
    expect(status(text)).toBe(400);
    expect(body(text)).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.kept).toEqual([]);
  });

  it('a valid PUT followed by garbage in the same write: 400, and the PUT is not kept', async () => {
    const { port, seen } = await start();
    const valid = put(`127.0.0.1:${port}`).replace('Connection: close\r\n', '');
    const { text } = await exchange(port, [`${valid}\u0000\u0001GARBAGE / HTTP/9\r\n\r\n`]);
    expect(status(text)).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.kept).toEqual([]);
  });

  it('headers past the limit still get 431', async () => {
    const { port } = await start();
    const { text } = await exchange(port, [
      `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(status(text)).toBe(431);
    expect(body(text)).toMatchObject({ code: 'ERR_LIMIT' });
  });
});

describe('guardServer: setup', () => {
  it('refuses a server with no request handler yet', () => {
    expect(() => guardServer(createServer())).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
