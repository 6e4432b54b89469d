import { describe, expect, it } from 'vitest';
import { listen, parseListen } from './listen.js';

describe('parseListen', () => {
  it('reads host:port with 127.0.0.1 when the host is left out', () => {
    expect(parseListen('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen(undefined)).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('refuses what is not an address', () => {
    for (const bad of ['host:', 'a:b', '1:99999', '::1:80']) {
      expect(() => parseListen(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('listen', () => {
  it('binds port 0 to a real port and closes', async () => {
    const l = await listen((_req, res) => res.end('hi'), { listen: '127.0.0.1:0' });
    expect(l.port).toBeGreaterThan(0);
    expect(await (await fetch(l.url)).text()).toBe('hi');
    await l.close();
    await expect(fetch(l.url)).rejects.toThrow();
  });

  it('reports an address in use', async () => {
    const a = await listen((_req, res) => res.end(), {});
    await expect(
      listen((_req, res) => res.end(), { listen: `127.0.0.1:${a.port}` }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await a.close();
  });
});
