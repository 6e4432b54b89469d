import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decodePathKey } from './file-routes.js';
import { statusForCode, watchStall } from './respond.js';

async function serve(handler: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => handler(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('HTTP helpers', () => {
  it('maps error codes to statuses', () => {
    expect(statusForCode('ERR_NOT_FOUND')).toBe(404);
    expect(statusForCode('ERR_AUTH')).toBe(401);
    expect(statusForCode('ERR_NO_SPACE')).toBe(507);
    expect(statusForCode('ERR_INVALID_KEY')).toBe(400);
    expect(statusForCode('ERR_SOMETHING_NEW')).toBe(500);
    expect(statusForCode(undefined)).toBe(500);
  });

  it('decodes keys and refuses bad percent-encoding with ERR_INVALID_KEY', () => {
    expect(decodePathKey('a%2Fb%20c')).toBe('a/b c');
    expect(decodePathKey('..')).toBe('..');
    for (const bad of ['%ZZ', '%E0%A4%A', '%C3%28', '']) {
      expect(() => decodePathKey(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_KEY' }),
      );
    }
  });

  it('watchStall cuts a response whose client stopped reading', async () => {
    let closed: Promise<unknown> | undefined;
    const { server, port } = await serve((res) => {
      closed = once(res, 'close');
      watchStall(res, 200);
      const chunk = Buffer.alloc(1024 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      pump();
      res.on('drain', pump);
    });
    const req = request({ port, host: '127.0.0.1' }, (res) => res.pause());
    req.end();
    await once(req, 'response');
    await new Promise((r) => setTimeout(r, 100));
    await closed;
    req.destroy();
    server.close();
  });

  it('watchStall leaves a slow body alone while the client keeps up', async () => {
    let destroyed = true;
    const { server, port } = await serve(async (res) => {
      const w = watchStall(res, 100);
      for (let i = 0; i < 4; i++) {
        res.write('x');
        await new Promise((r) => setTimeout(r, 150));
      }
      w.stop();
      destroyed = res.destroyed;
      res.end('done');
    });
    const body = await new Promise<string>((resolve) => {
      request({ port, host: '127.0.0.1' }, async (res) => {
        let text = '';
        for await (const c of res) text += c;
        resolve(text);
      }).end();
    });
    expect(body).toBe('xxxxdone');
    expect(destroyed).toBe(false);
    server.close();
  });
});
