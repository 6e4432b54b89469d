// `peerstash quarantine` end-to-end: node B is stopped, the files A deletes meanwhile are forgotten
// past the tombstone TTL, and B, back, holds its copies back; the CLI lists, releases and drops them.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNode, waitForPeers } from '../src/child-node.js';
import { randomFile, runCli, tempDir } from './helpers.js';

const TTL_MS = 1500;
const FAST = ['--tombstone-ttl', String(TTL_MS / 86_400_000), '--repair-interval', '0.3'];
const nodes: NodeProcess[] = [];
let root = '';
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  if (root) await rm(root, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const json = async (args: string[]) => {
  const r = await runCli([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('quarantine', () => {
  it('lists what a node back after the TTL held back; release spreads it, drop forgets it', async () => {
    root = await tempDir('quarantine');
    const dirA = join(root, 'a');
    const dirB = join(root, 'b');
    expect((await runCli(['init', '--dir', dirA, '--listen', '127.0.0.1:0'])).code).toBe(0);
    expect((await runCli(['init', '--dir', dirB, '--join', join(dirA, 'keys.json')])).code).toBe(0);
    const a = await startNode({ dir: dirA, args: FAST, timeoutMs: 30_000 });
    nodes.push(a);
    let b = await startNode({
      dir: dirB,
      args: [...FAST, '--bootstrap', a.listen],
      timeoutMs: 30_000,
    });
    nodes.push(b);
    await waitForPeers([a, b], 1, 30_000);

    const empty = await runCli(['quarantine', '--dir', dirB]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('nothing held back\n');
    const input = join(root, 'in.bin');
    await randomFile(input, 3000);
    for (const key of ['kept', 'gone', 'dropme']) {
      expect((await runCli(['put', input, '--key', key, '--dir', dirA])).code).toBe(0);
    }
    await until('B lists the three files', async () => {
      const keys = (await json(['ls', '--dir', dirB])).map((e: { key: string }) => e.key);
      return keys.length === 3 ? keys : undefined;
    });
    await b.stop();
    nodes.pop();
    for (const key of ['gone', 'dropme']) {
      expect((await runCli(['rm', key, '--everywhere', '--dir', dirA])).code).toBe(0);
    }
    await sleep(TTL_MS + 300);
    await until('A forgets the tombstones', async () => {
      const st = await json(['status', '--dir', dirA]);
      return st.catalog?.tombstones === 0 ? true : undefined;
    });

    b = await startNode({ dir: dirB, args: [...FAST, '--bootstrap', a.listen], timeoutMs: 30_000 });
    nodes.push(b);
    const st = await runCli(['status', '--dir', dirB]);
    expect(st.stdout).toMatch(/^warning\s+down .* \(see "peerstash quarantine"\)$/m);
    const held = await until('B holds two records back', async () => {
      const records = await json(['quarantine', 'list', '--dir', dirB]);
      return records.length === 2 ? records : undefined;
    });
    expect(held.map((r: { key: string }) => r.key).sort()).toEqual(['dropme', 'gone']);
    expect(held[0]).toMatchObject({ size: 3000, reason: expect.any(String) });
    const text = await runCli(['quarantine', '--dir', dirB]);
    expect(text.stdout).toMatch(/^key\s+size\s+modified\s+held since\s+why$/m);
    expect(text.stdout).toMatch(/^gone\s+2\.93 KiB\s+\S+Z\s+\S+Z\s+peer lacks it/m);
    expect(text.stdout).toMatch(/^2 records held back: /m);
    // neither is listed meanwhile
    expect((await json(['ls', '--dir', dirB])).map((e: { key: string }) => e.key)).toEqual([
      'kept',
    ]);

    const released = await runCli(['quarantine', 'release', 'gone', '--dir', dirB]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toBe('released gone: it spreads to the peers again\n');
    const again = await runCli(['quarantine', 'release', 'gone', '--dir', dirB]);
    expect(again.code).toBe(4);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    const dropped = await json(['quarantine', 'drop', 'dropme', '--dir', dirB]);
    expect(dropped).toEqual({ key: 'dropme', dropped: true });
    expect((await runCli(['quarantine', '--dir', dirB])).stdout).toBe('nothing held back\n');
    await until('A lists the released file', async () => {
      const keys = (await json(['ls', '--dir', dirA])).map((e: { key: string }) => e.key);
      return keys.includes('gone') ? keys : undefined;
    });
    expect((await json(['ls', '--dir', dirA])).map((e: { key: string }) => e.key)).toEqual([
      'gone',
      'kept',
    ]);
  });

  it('a missing or extra key is a usage error (exit 2)', async () => {
    const dir = root || (await tempDir('quarantine-usage'));
    const missing = await runCli(['quarantine', 'release', '--dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs a key/);
    const extra = await runCli(['quarantine', 'list', 'x', '--dir', dir]);
    expect(extra.code).toBe(2);
  });
});
