// `peerstash rm` end-to-end: a local and an everywhere delete across two real `serve` processes.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli } from './helpers.js';
import { useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('rm');

describe('rm', () => {
  it('rm --everywhere removes the file from both nodes; then get is exit 4', async () => {
    expect((await runCli(['put', c.input, '--key', 'docs/input.bin', '--dir', c.dirA])).code).toBe(
      0,
    );
    const rmr = await runCli(['rm', 'docs/input.bin', '--everywhere', '--dir', c.dirA, '--json']);
    expect(rmr.code).toBe(0);
    expect(JSON.parse(rmr.stdout)).toMatchObject({ deleted: true });
    for (const dir of [c.dirA, c.dirB]) {
      const get = await runCli(['get', 'docs/input.bin', '-o', join(c.root, 'gone'), '--dir', dir]);
      expect(get.code).toBe(EXIT.NOT_FOUND);
      expectOneLine(get.stderr);
    }
    await expect(stat(join(c.root, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rm of an unknown key is exit 4', async () => {
    const r = await runCli(['rm', 'never-stored', '--dir', c.dirA]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(expectOneLine(r.stderr)).toContain('peerstash ls');
  });
});
