// `peerstash serve --crypto-threads`: a node sealing and opening on worker threads stores and
// returns the same bytes; a bad value is refused as usage before the node starts.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, randomFile, runCli, sha256File, tempDir } from './helpers.js';

let root: string;
let dir: string;

beforeAll(async () => {
  root = await tempDir('crypto-threads');
  dir = join(root, 'node');
  expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('serve --crypto-threads', () => {
  it('puts and gets through worker threads, byte for byte', async () => {
    const n = await startNode({
      dir,
      args: ['--replicas', '0', '--crypto-threads', '2'],
      timeoutMs: 30_000,
    });
    try {
      const input = join(root, 'in.bin');
      const want = await randomFile(input, 9 * 1024 * 1024 + 77);
      expect((await runCli(['put', input, '--key', 'k', '--dir', dir])).code).toBe(0);
      const out = join(root, 'out.bin');
      expect((await runCli(['get', 'k', '-o', out, '--dir', dir])).code).toBe(0);
      expect(await sha256File(out)).toBe(want);
    } finally {
      await n.stop();
    }
  });

  it("anything but 'auto' or 0-64 is usage, naming the flag", async () => {
    for (const value of ['x', '-1', '1.5', '65']) {
      const r = await runCli(['serve', '--dir', dir, '--crypto-threads', value]);
      expect(r.code, value).toBe(EXIT.USAGE);
      expect(expectOneLine(r.stderr)).toContain(`bad --crypto-threads ${value}`);
    }
  });
});
