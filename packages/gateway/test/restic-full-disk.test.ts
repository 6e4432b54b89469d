// A restic upload that the backend refuses part-way (a full disk) is answered — 507 with a line
// restic prints — instead of a reset connection, and the server keeps serving.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/restic-full-disk.mjs', import.meta.url));

function send(
  url: string,
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method });
    req.on('response', async (res) => {
      const text = Buffer.concat(await res.toArray()).toString();
      resolve({ status: res.statusCode ?? 0, text });
    });
    req.on('error', reject);
    // the body in 64 KiB writes, as a client streams it: the refusal comes while it is sent
    if (body)
      for (let at = 0; at < body.length; at += 65536) req.write(body.subarray(at, at + 65536));
    req.end();
  });
}

describe('restic upload on a full disk', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    dir = await tempDir('gateway-full-');
    // A 1 MiB tmpfs in a private user+mount namespace: a real full disk, visible to the child only.
    const script = 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" "$3" "$1"';
    child = spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, fixture], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    url = JSON.parse(line.toString()).url;
  });
  afterAll(async () => {
    child?.stdin?.end();
    if (child && child.exitCode === null) await once(child, 'exit');
    await removeDir(dir);
  });

  it('answers 507 part-way through the body, then serves the next request', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const name = createHash('sha256').update(body).digest('hex');
    const refused = await send(url, 'POST', `/data/${name}`, body);
    expect(refused.status).toBe(507);
    expect(refused.text).toMatch(/storage|space/i);
    // a small one still fits: the refused upload left nothing behind
    const small = randomBytes(1024);
    const smallName = createHash('sha256').update(small).digest('hex');
    expect((await send(url, 'POST', `/data/${smallName}`, small)).status).toBe(200);
    expect((await send(url, 'GET', '/config')).status).toBe(404);
  });
});
