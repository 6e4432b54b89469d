// Signing in to the console a `peerstash serve` process serves on its API listener, in Chromium:
// through a forwarded port as `ssh -L` gives one, `peerstash ui --revoke` ending the session in
// the open page, and a node served with --no-ui offering no console at all.

import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode, NodeProc, runCli } from '../../cluster/test/harness.js';
import { consoleBase, launchBrowser, signInUrl } from './console-harness.js';

/** What `ssh -L <port>:127.0.0.1:<api port>` does on the browser's side: bytes both ways, untouched. */
async function forward(target: URL): Promise<{ origin: string; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = connect(Number(target.port), target.hostname);
    for (const s of [client, up]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        up.destroy();
      });
    }
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('console sign-in on the node’s own listener', () => {
  let work: string;
  let node: NodeProc;
  let noUi: NodeProc;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tunnel: Awaited<ReturnType<typeof forward>>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'peerstash-console-sign-in-'));
    const dirs = [join(work, 'node'), join(work, 'no-ui')];
    await Promise.all(dirs.map((d) => initNode(d)));
    [node, noUi] = await Promise.all([
      new NodeProc(dirs[0]!).start(),
      new NodeProc(dirs[1]!, { extraArgs: ['--no-ui'] }).start(),
    ]);
    tunnel = await forward(new URL(consoleBase(node)));
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await tunnel?.close();
    await Promise.all([node?.kill(), noUi?.kill()]);
    await rm(work, { recursive: true, force: true });
  });

  it('signs in through a forwarded port with the link `peerstash ui --origin` printed', async () => {
    const url = await signInUrl(node, ['--origin', tunnel.origin]);
    expect(url.startsWith(`${tunnel.origin}/ui/sign-in?t=`)).toBe(true);
    await page.goto(url);
    await page.getByRole('link', { name: 'Cluster' }).waitFor();
    expect(page.url()).toBe(`${tunnel.origin}/ui/`);
    await page.locator('table.listing').waitFor();
    const r = await page.evaluate(async () => (await fetch('/ui/api/v1/status')).status);
    expect(r).toBe(200);
    expect(await page.content()).not.toContain(node.token);
  });

  it('`peerstash ui --revoke` signs the open page out, and an unused link with it', async () => {
    const unused = await signInUrl(node);
    const revoked = await runCli(['ui', '--revoke', '--dir', node.dir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe('ended 1 console session; unused sign-in links no longer work\n');
    // the page learns on its next call
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/ui/api/v1/status')).status);
    expect(status).toBe(401);

    const old = await page.goto(unused);
    expect(old?.status()).toBe(401);
    await page.goto(await signInUrl(node));
    await page.getByRole('link', { name: 'Cluster' }).waitFor();
    expect(page.url()).toBe(`${consoleBase(node)}/ui/`);
  });

  it('a node served with --no-ui has no console: its listener answers only bearer requests', async () => {
    const res = await page.goto(`${consoleBase(noUi)}/ui/`);
    expect(res?.status()).toBe(401);
    expect(JSON.parse(await res!.text())).toMatchObject({ code: 'ERR_AUTH' });
    expect(await page.locator('script').count()).toBe(0);
    const r = await runCli(['ui', '--dir', noUi.dir]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('started with --no-ui');
    // the API itself is there
    expect((await noUi.status()).nodeId).toEqual(expect.any(String));
  });
});
