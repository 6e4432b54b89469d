// The web console in Chromium against three real `peerstash serve` processes: sign-in, uploads
// by picker and by drop, folders, download, delete, a hostile file name, refusals, and the
// cluster page watching a node die and come back. Screenshots go to the folder printed first.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProc, startCluster, stopCluster, waitFor } from '../../cluster/test/harness.js';
import { consoleBase, launchBrowser, signInUrl } from './console-harness.js';

// Code passed to page.evaluate runs in Chromium; these are the few page names it uses (the
// project's types are Node's, and the DOM's would clash with them in the shared harness).
interface PageElement {
  dispatchEvent(e: DragEvent): boolean;
  scrollWidth: number;
}
declare const document: {
  cookie: string;
  documentElement: PageElement;
  querySelector(selector: string): PageElement | null;
  addEventListener(
    type: 'securitypolicyviolation',
    fn: (e: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};
declare const window: { __csp: string[] };
declare class DataTransfer {
  items: { add(file: File): void };
}
declare class DragEvent {
  constructor(
    type: string,
    init: { dataTransfer: DataTransfer; bubbles: boolean; cancelable: boolean },
  );
}
declare class File {
  constructor(bits: string[], name: string);
}

const XSS = '<img src=x onerror=alert(1)>';
/** A value for a double-quoted attribute selector. */
const attr = (v: string) => v.replace(/["\\]/g, '\\$&');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('web console in a real browser', () => {
  let nodes: NodeProc[];
  /** The console's origin: node 0's own API listener. */
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let work: string;
  let shots: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  const row = (key: string) => page.locator(`tr.file-row[data-key="${attr(key)}"]`);
  const upload = (key: string) => page.locator(`li.upload[data-key="${attr(key)}"]`);
  const openFolder = async (prefix: string) => {
    await page.goto(`${base}/ui/#/files/${encodeURIComponent(prefix)}`);
    await page.locator('table.listing').waitFor();
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'peerstash-console-'));
    shots = process.env.PEERSTASH_SCREENSHOTS ?? join(work, 'screenshots');
    await mkdir(shots, { recursive: true });
    console.log(`console screenshots: ${shots}`);
    nodes = await startCluster(3, { replicas: 2 });
    base = consoleBase(nodes[0]!);
    browser = await launchBrowser();
    context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1200, height: 800 },
    });
    // a violation of the page's CSP would show here (the script is injected by the driver, not inline)
    await context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  afterAll(async () => {
    await browser?.close();
    if (nodes) await stopCluster(nodes);
    if (!process.env.PEERSTASH_SCREENSHOTS)
      await rm(join(work, 'in'), { recursive: true, force: true });
  });

  it('signs in from the URL `peerstash ui` printed, which then drops out of the address bar and works once', async () => {
    const url = await signInUrl(nodes[0]!);
    expect(url).toMatch(/\/ui\/sign-in\?t=[A-Za-z0-9_-]{43}$/);
    await page.goto(url);
    await page.getByRole('link', { name: 'Cluster' }).waitFor();
    expect(page.url()).toBe(`${base}/ui/`);
    const cookies = await context.cookies(`${base}/ui/`);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.content()).not.toContain(nodes[0]!.token);

    const other = await browser.newContext();
    const again = await other.newPage();
    const res = await again.goto(url);
    expect(res?.status()).toBe(401);
    await expect(again.locator('h1').textContent()).resolves.toBe('Sign-in link not valid');
    await again.goto(`${base}/ui/`);
    await again.getByRole('heading', { name: 'Signed out' }).waitFor();
    await other.close();
  });

  let report: Buffer;
  it('uploads a file and a folder through the pickers, with progress, and lists them', async () => {
    const dir = join(work, 'in');
    report = randomBytes(6 * 1024 * 1024 + 123);
    await mkdir(join(dir, 'photos', 'trip'), { recursive: true });
    await writeFile(join(dir, 'report.bin'), report);
    await writeFile(join(dir, 'photos', 'a.txt'), 'first photo\n');
    await writeFile(join(dir, 'photos', 'trip', 'b.txt'), 'second photo\n');

    await page.locator('[data-testid="pick-files"]').setInputFiles(join(dir, 'report.bin'));
    await page.locator('[data-testid="pick-folder"]').setInputFiles(join(dir, 'photos'));
    for (const key of ['report.bin', 'photos/a.txt', 'photos/trip/b.txt']) {
      await upload(key).and(page.locator('.state-done')).waitFor({ timeout: 60_000 });
    }
    await expect(page.locator('.uploads .total').textContent()).resolves.toMatch(/^3 stored/);
    await row('report.bin').waitFor();
    await expect(row('report.bin').locator('td').nth(1).textContent()).resolves.toBe('6.0 MiB');
    await page.getByRole('link', { name: 'Folder photos' }).waitFor();
    // stored in the cluster, readable from another node
    const got = await nodes[1]!.get('photos/trip/b.txt');
    expect(got.sha256).toBe(sha(Buffer.from('second photo\n')));
  });

  it('navigates folders and back by the breadcrumbs', async () => {
    await page.getByRole('link', { name: 'Folder photos' }).click();
    await row('photos/a.txt').waitFor();
    expect(await page.locator('.crumbs [aria-current="page"]').textContent()).toBe('photos');
    await page.getByRole('link', { name: 'Folder trip' }).click();
    await row('photos/trip/b.txt').waitFor();
    expect(await page.locator('.crumbs li').allTextContents()).toEqual([
      'All files',
      'photos',
      'trip',
    ]);
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe('#/files/photos/trip/');
    await page.goBack();
    await row('photos/a.txt').waitFor();
    await page.locator('.crumbs').getByRole('link', { name: 'All files' }).click();
    await row('report.bin').waitFor();
    await expect(page.locator('tr.file-row').count()).resolves.toBe(1);
    await page.screenshot({ path: join(shots, 'files.png'), fullPage: true });
  });

  it('pages a big folder with the catalog’s cursor, forward and back, and filters the page', async () => {
    const keys = Array.from({ length: 103 }, (_, i) => `many/f${String(i).padStart(3, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 10) {
      const batch = keys.slice(i, i + 10).map((k) => nodes[1]!.put(k, Buffer.from(k)));
      for (const r of await Promise.all(batch)) expect(r.status).toBe(201);
    }
    await openFolder('many/');
    const pager = page.getByRole('navigation', { name: 'Pages' });
    // the node's pages ("Page n"), not rows counted out by the page ("1–100 of 103")
    await expect(pager.locator('span').textContent()).resolves.toBe('Page 1');
    await expect(page.locator('tr.file-row').count()).resolves.toBe(100);
    await row('many/f099.txt').waitFor();
    await pager.getByRole('button', { name: 'Next page' }).click();
    await row('many/f102.txt').waitFor();
    await expect(page.locator('tr.file-row').count()).resolves.toBe(3);
    expect(await pager.locator('span').textContent()).toBe('Page 2');
    expect(await pager.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Previous page' }).click();
    await row('many/f000.txt').waitFor();
    await page.getByRole('searchbox', { name: 'Filter by name' }).fill('f05');
    await expect(page.locator('tr.file-row').count()).resolves.toBe(10);
    await page.locator('[data-testid="filter-page"]').waitFor();
  });

  it('downloads a file by a plain link, and the bytes are the ones uploaded', async () => {
    await openFolder('');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download report.bin' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('report.bin');
    const path = await download.path();
    expect(sha(await readFile(path))).toBe(sha(report));
  });

  it('shows a hostile file name as text and runs nothing', async () => {
    const body = Buffer.from('x');
    expect((await nodes[1]!.put(XSS, body)).status).toBe(201);
    expect((await nodes[1]!.put(`<svg onload=alert(2)>/${XSS}`, body)).status).toBe(201);
    await openFolder('');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row(XSS).waitFor();
    expect(await row(XSS).locator('td.name-cell').textContent()).toBe(XSS);
    expect(await page.locator('table img, table svg, table script').count()).toBe(0);
    await page.getByRole('link', { name: 'Folder <svg onload=alert(2)>' }).click();
    await row(`<svg onload=alert(2)>/${XSS}`).waitFor();
    expect(await page.locator('.crumbs [aria-current="page"]').textContent()).toBe(
      '<svg onload=alert(2)>',
    );
    expect(await page.locator('main img, main script, .listing svg, .crumbs svg').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('uploads what is dropped on the page, and shows a failed file with its own error', async () => {
    await openFolder('');
    const longName = `${'n'.repeat(20_000)}.txt`;
    await page.evaluate((long) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped bytes\n'], 'dropped.txt'));
      dt.items.add(new File(['too long'], long));
      const target = document.querySelector('section.files')!;
      target.dispatchEvent(
        new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }),
      );
      target.dispatchEvent(
        new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }),
      );
    }, longName);
    await upload('dropped.txt').and(page.locator('.state-done')).waitFor({ timeout: 30_000 });
    const failed = upload(longName);
    await failed.and(page.locator('.state-error')).waitFor({ timeout: 30_000 });
    expect((await failed.locator('.upload-error').textContent())?.length).toBeGreaterThan(0);
    await row('dropped.txt').waitFor();
    expect((await nodes[2]!.get('dropped.txt')).sha256).toBe(sha(Buffer.from('dropped bytes\n')));
  });

  it('cancels an upload in flight, and nothing is stored', async () => {
    const big = join(work, 'in', 'slow.bin');
    await writeFile(big, randomBytes(8 * 1024 * 1024));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 256 * 1024,
    });
    try {
      await page.locator('[data-testid="pick-files"]').setInputFiles(big);
      await upload('slow.bin').and(page.locator('.state-uploading')).waitFor();
      await page.getByRole('button', { name: 'Cancel upload of slow.bin' }).click();
      await upload('slow.bin').and(page.locator('.state-cancelled')).waitFor();
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const n of nodes) expect((await n.get('slow.bin')).status).toBe(404);
  });

  it('deletes a file everywhere after a confirmation that the keyboard can cancel', async () => {
    await openFolder('');
    await page.getByRole('button', { name: 'Delete report.bin' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
    await dialog.waitFor();
    expect(await dialog.getByRole('checkbox').isChecked()).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row('report.bin').count()).toBe(1);

    await page.getByRole('button', { name: 'Delete report.bin' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row('report.bin').waitFor({ state: 'detached' });
    await waitFor(
      'report.bin gone from every node',
      async () => {
        for (const n of nodes) if ((await n.get('report.bin')).status !== 404) return false;
        return true;
      },
      10_000,
    );
  });

  it('refuses a request without the session cookie or with a wrong CSRF token', async () => {
    const r = await page.evaluate(async () => {
      const noCookie = await fetch('/ui/api/v1/status', { credentials: 'omit' });
      const noCsrf = await fetch('/ui/api/file?key=csrf-probe', { method: 'PUT', body: 'x' });
      const wrong = await fetch('/ui/api/file?key=csrf-probe', {
        method: 'PUT',
        body: 'x',
        headers: { 'x-csrf-token': 'not-the-token' },
      });
      const withCookie = await fetch('/ui/api/v1/status');
      return [noCookie.status, noCsrf.status, wrong.status, withCookie.status];
    });
    expect(r).toEqual([401, 403, 403, 200]);
    expect((await nodes[0]!.get('csrf-probe')).status).toBe(404);
  });

  it('shows the three nodes, a killed one offline within 10 s, and back after its restart', async () => {
    await page.goto(`${base}/ui/#/cluster`);
    const online = page.locator('[data-testid="nodes-online"]');
    await waitFor(
      '3 of 3 online',
      async () => (await online.textContent()) === '3 of 3 nodes online',
      15_000,
    );
    for (const n of nodes) {
      const id = String((await n.status()).nodeId);
      await page.locator(`tr.node-row.online[data-node="${id}"]`).waitFor();
    }
    // some traffic for the chart to show
    expect((await nodes[0]!.put('traffic.bin', randomBytes(24 * 1024 * 1024))).status).toBe(201);
    await page
      .locator('figure.chart polyline')
      .first()
      .waitFor({ state: 'attached', timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 4000));
    await page.screenshot({ path: join(shots, 'cluster.png'), fullPage: true });

    const victim = nodes[2]!;
    const id = String((await victim.status()).nodeId);
    const killedAt = Date.now();
    await victim.kill();
    await page.locator(`tr.node-row.offline[data-node="${id}"]`).waitFor({ timeout: 10_000 });
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(await online.textContent()).toBe('2 of 3 nodes online');
    await page.screenshot({ path: join(shots, 'cluster-node-down.png'), fullPage: true });

    await victim.start();
    await page.locator(`tr.node-row.online[data-node="${id}"]`).waitFor({ timeout: 30_000 });
    expect(await online.textContent()).toBe('3 of 3 nodes online');
  });

  it('is usable 360 px wide, and nothing broke the page or its CSP on the way', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await openFolder('photos/');
    await row('photos/a.txt').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      360,
    );
    await expect(page.getByRole('link', { name: 'Download a.txt' }).isVisible()).resolves.toBe(
      true,
    );
    await page.screenshot({ path: join(shots, 'files-360.png'), fullPage: true });
    await page.goto(`${base}/ui/#/cluster`);
    await page.locator('tr.node-row').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      360,
    );
    expect(await page.evaluate(() => window.__csp)).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
