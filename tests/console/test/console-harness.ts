// The console of a real `peerstash serve` process and a real Chromium to drive it: Debian's
// /usr/bin/chromium through playwright-core (Playwright's own browser download is not used).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConsole, type WebConsole } from '@peerstash/web';
import { type Browser, chromium } from 'playwright-core';
import type { NodeProc } from '../../cluster/test/harness.js';

export const CHROMIUM = process.env.PEERSTASH_CHROMIUM ?? '/usr/bin/chromium';

export interface ConsoleFront {
  /** Origin the browser opens: `<base>/ui/`. */
  base: string;
  close(): Promise<void>;
}

/**
 * The console in front of `node`'s API, on a listener of its own, until `peerstash serve` mounts
 * it on the API listener. Then this whole function becomes `return { base: node.apiBase, close:
 * async () => {} }` — every test goes through `base` and the HTTP routes only.
 */
export async function consoleOf(node: NodeProc): Promise<ConsoleFront> {
  const web: WebConsole = createConsole({
    apiToken: node.token,
    upstream: node.apiBase,
    dataDir: node.dir,
  });
  const server: Server = createServer((req, res) => {
    if (!web.handle(req, res)) {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    async close() {
      web.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A one-time sign-in URL, from the route `peerstash ui` calls with the node's API token. */
export async function signInUrl(front: ConsoleFront, apiToken: string): Promise<string> {
  const res = await fetch(`${front.base}/ui/sign-in-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiToken}` },
  });
  if (res.status !== 201) throw new Error(`sign-in token: HTTP ${res.status}`);
  return ((await res.json()) as { url: string }).url;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}
