// The console a real `peerstash serve` process serves on its own API listener, the sign-in link
// `peerstash ui` prints for it, and a real Chromium to drive it: Debian's /usr/bin/chromium
// through playwright-core (Playwright's own browser download is not used).

import { type Browser, chromium } from 'playwright-core';
import { type NodeProc, runCli } from '../../cluster/test/harness.js';

export const CHROMIUM = process.env.PEERSTASH_CHROMIUM ?? '/usr/bin/chromium';

/** The origin the browser opens `/ui/` on: the node's API listener itself. */
export function consoleBase(node: NodeProc): string {
  return node.apiBase;
}

/** Runs `peerstash ui` (with `args`) for `node` and returns the sign-in URL it printed. */
export async function signInUrl(node: NodeProc, args: string[] = []): Promise<string> {
  const r = await runCli(['ui', '--dir', node.dir, ...args]);
  if (r.code !== 0) throw new Error(`peerstash ui failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
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
