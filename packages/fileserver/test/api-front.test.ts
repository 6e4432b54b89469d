// A front end mounted on a real node's API listener through `apiFronts`: what the node hands it
// (token, data dir, allowed hosts, the API in-process), and that it is closed when the node stops.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type ApiFrontContext, readApiInfo } from '../src/index.js';
import { startNode, tempDir } from './helpers.js';

describe('apiFronts on a real node', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('get the node’s context before it listens, serve beside the API, and close with it', async () => {
    const dir = await tempDir('api-front');
    dirs.push(dir);
    let seen: ApiFrontContext | undefined;
    let closed = 0;
    const node = await startNode({
      dataDir: dir,
      vaultKey: randomBytes(32),
      api: true,
      apiAllowedHosts: ['nas.lan'],
      apiFronts: [
        (ctx) => {
          seen = ctx;
          return {
            handle(req, res) {
              if (req.url !== '/front/status') return false;
              req.headers.authorization = `Bearer ${ctx.token}`;
              req.url = '/v1/status';
              ctx.dispatch(req, res);
              return true;
            },
            close() {
              closed++;
            },
          };
        },
      ],
    });
    const info = (await readApiInfo(dir))!;
    expect(seen).toMatchObject({ token: info.token, dataDir: dir, allowedHosts: ['nas.lan'] });
    // no bearer from the client: the front end added it and reached the API in-process
    const res = await fetch(`http://127.0.0.1:${info.port}/front/status`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ nodeId: node.nodeId });
    expect((await fetch(`http://127.0.0.1:${info.port}/v1/status`)).status).toBe(401);
    await node.stop();
    expect(closed).toBe(1);
  });

  it('that fail to build fail the start, and the node leaves nothing running', async () => {
    const dir = await tempDir('api-front-fail');
    dirs.push(dir);
    await expect(
      startNode({
        dataDir: dir,
        api: true,
        apiFronts: [
          () => {
            throw new Error('no assets');
          },
        ],
      }),
    ).rejects.toThrow('no assets');
    expect(await readApiInfo(dir)).toBeUndefined();
  });
});
