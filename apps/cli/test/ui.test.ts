// `peerstash ui` end-to-end against real `serve` processes: the printed link signs in once and
// sets the session cookie, --revoke ends sessions, --open hands the link to xdg-open, --no-ui.

import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from './helpers.js';

interface Answer {
  status: number;
  location: string | undefined;
  cookie: string | undefined;
}

/** GET with an optional cookie, redirects not followed. */
function get(url: string, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          cookie: res.headers['set-cookie']?.[0],
        }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

let root: string;
let node: NodeProcess;
let off: NodeProcess;
const dir = () => join(root, 'on');

beforeAll(async () => {
  root = await tempDir('ui');
  for (const name of ['on', 'off']) {
    expect(
      (await runCli(['init', '--dir', join(root, name), '--listen', '127.0.0.1:0'])).code,
    ).toBe(0);
  }
  [node, off] = await Promise.all([
    startNode({ dir: dir(), timeoutMs: 30_000 }),
    startNode({ dir: join(root, 'off'), args: ['--no-ui'], timeoutMs: 30_000 }),
  ]);
});
afterAll(async () => {
  await Promise.all([node?.stop(), off?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('peerstash ui', () => {
  it('prints a link on the node’s API listener that signs in once and leaves the address bar', async () => {
    const r = await runCli(['ui', '--dir', dir()]);
    expect(r.code, r.stderr).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${node.client.port}/ui/sign-in\\?t=[A-Za-z0-9_-]{43}$`),
    );
    expect(r.stderr).toContain('once, within 5 min');
    const first = await get(url);
    expect(first.status).toBe(303);
    expect(first.location).toBe('/ui/');
    expect(first.cookie).toMatch(
      /^peerstash_ui_[0-9a-f]{12}=[^;]+; Path=\/ui; HttpOnly; SameSite=Strict/,
    );
    const cookie = first.cookie!.split(';')[0]!;
    expect((await get(`${new URL(url).origin}/ui/session`, cookie)).status).toBe(200);
    expect((await get(url)).status).toBe(401);
  });

  it('--revoke ends every session and every unused link', async () => {
    const a = (await runCli(['ui', '--dir', dir()])).stdout.trim();
    const unused = (await runCli(['ui', '--json', '--dir', dir()])).stdout;
    const { url: later, expiresAt } = JSON.parse(unused) as { url: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(Date.now());
    const cookie = (await get(a)).cookie!.split(';')[0]!;
    const session = `${new URL(a).origin}/ui/session`;
    expect((await get(session, cookie)).status).toBe(200);
    const r = await runCli(['ui', '--revoke', '--dir', dir()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^ended [1-9]\d* console sessions?; unused sign-in links no longer work\n$/,
    );
    expect((await get(session, cookie)).status).toBe(401);
    expect((await get(later)).status).toBe(401);
    const json = await runCli(['ui', '--revoke', '--json', '--dir', dir()]);
    expect(JSON.parse(json.stdout)).toEqual({ sessions: 0 });
  });

  it('--open runs xdg-open with the link; without one the link is still printed', async () => {
    const bin = join(root, 'bin');
    const seen = join(root, 'opened.txt');
    await mkdir(bin);
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" > '${seen}'\n`);
    await chmod(join(bin, 'xdg-open'), 0o755);
    const r = await runCli(['ui', '--open', '--dir', dir()], { env: { PATH: bin } });
    expect(r.code, r.stderr).toBe(0);
    const url = r.stdout.trim();
    let opened = '';
    for (let i = 0; i < 50 && opened === ''; i++) {
      opened = await readFile(seen, 'utf8').catch(() => '');
      if (opened === '') await new Promise((res) => setTimeout(res, 100));
    }
    expect(opened.trim()).toBe(url);
    expect((await get(url)).status).toBe(303);

    const none = await runCli(['ui', '--open', '--dir', dir()], { env: { PATH: '' } });
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/\/ui\/sign-in\?t=/);
    expect(none.stderr).toContain('could not open a browser (no xdg-open on PATH)');
  });

  it('--origin puts the tunnel’s address in front of the link', async () => {
    const r = await runCli(['ui', '--origin', 'http://127.0.0.1:7400', '--dir', dir()]);
    expect(r.stdout).toMatch(/^http:\/\/127\.0\.0\.1:7400\/ui\/sign-in\?t=[A-Za-z0-9_-]{43}\n$/);
    const bad = await runCli(['ui', '--origin', 'http://x/some/path', '--dir', dir()]);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(expectOneLine(bad.stderr)).toContain('bad --origin');
    const both = await runCli(['ui', '--revoke', '--open', '--dir', dir()]);
    expect(both.code).toBe(EXIT.USAGE);
  });

  it('on a node served with --no-ui: no console, and one line with exit 4', async () => {
    // nothing under /ui/ is public: the API's own bearer check answers
    expect((await get(`http://127.0.0.1:${off.client.port}/ui/`)).status).toBe(401);
    expect((await get(`http://127.0.0.1:${node.client.port}/ui/`)).status).toBe(200);
    const r = await runCli(['ui', '--dir', join(root, 'off')]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(expectOneLine(r.stderr)).toContain('started with --no-ui');
    expect((await runCli(['ui', '--revoke', '--dir', join(root, 'off')])).code).toBe(
      EXIT.NOT_FOUND,
    );
  });

  it('with no node running: exit 3', async () => {
    const idle = join(root, 'idle');
    expect((await runCli(['init', '--dir', idle, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const r = await runCli(['ui', '--dir', idle]);
    expect(r.code).toBe(EXIT.NODE_NOT_RUNNING);
    expectOneLine(r.stderr);
  });
});
