// A two-node cluster for one test file: init A, join B, start both as real `peerstash serve`
// children linked over TLS-PSK on 127.0.0.1, and a 3 MiB random input file; all removed after.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type NodeProcess, startNode, waitForPeers } from '../src/child-node.js';
import { randomFile, runCli, tempDir } from './helpers.js';

/** Size of the input file: a few chunks and a ragged tail. */
export const SIZE = 3 * 1024 * 1024 + 17;

export interface TwoNodes {
  root: string;
  dirA: string;
  dirB: string;
  a: NodeProcess;
  b: NodeProcess;
  /** A random file of SIZE bytes, and its SHA-256. */
  input: string;
  inputSha: string;
}

/** Registers the hooks of the file it is called in; the fields are set once beforeAll ran. */
export function useTwoNodes(name: string): TwoNodes {
  const c = {} as TwoNodes;
  beforeAll(async () => {
    c.root = await tempDir(name);
    c.dirA = join(c.root, 'a');
    c.dirB = join(c.root, 'b');
    expect((await runCli(['init', '--dir', c.dirA, '--listen', '127.0.0.1:0'])).code).toBe(0);
    expect(
      (await runCli(['init', '--dir', c.dirB, '--join', join(c.dirA, 'keys.json')])).code,
    ).toBe(0);
    c.a = await startNode({ dir: c.dirA, timeoutMs: 30_000 });
    c.b = await startNode({ dir: c.dirB, args: ['--bootstrap', c.a.listen], timeoutMs: 30_000 });
    await waitForPeers([c.a, c.b], 1, 30_000);
    c.input = join(c.root, 'input.bin');
    c.inputSha = await randomFile(c.input, SIZE);
  });
  afterAll(async () => {
    await Promise.all([c.a?.stop(), c.b?.stop()]);
    if (c.root) await rm(c.root, { recursive: true, force: true });
  });
  return c;
}
