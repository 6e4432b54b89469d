// `peerstash scrub` end-to-end: a pass over real blobs on disk, one of them rotted by hand.

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sha256File, walk } from './helpers.js';
import { useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('scrub');

describe('scrub', () => {
  it('checks every blob; a flipped byte is found, dropped, and gets still succeed', async () => {
    for (const key of ['docs/input.bin', 'input.bin']) {
      expect((await runCli(['put', c.input, '--key', key, '--dir', c.dirA])).code).toBe(0);
    }
    const clean = await runCli(['scrub', '--json', '--dir', c.dirB]);
    expect(clean.code, clean.stderr).toBe(0);
    const before = JSON.parse(clean.stdout) as { checked: number; rotten: number };
    expect(before.checked).toBeGreaterThan(0);
    expect(before.rotten).toBe(0);
    // rot one of B's blobs on disk
    const blobs = (await walk(join(c.dirB, 'blobs'))).filter((f) => f.endsWith('.blob'));
    const victim = blobs[0]!;
    const fh = await open(victim, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 100);
    byte[0] = byte[0]! ^ 0xff;
    await fh.write(byte, 0, 1, 100);
    await fh.close();
    const found = await runCli(['scrub', '--dir', c.dirB]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(
      new RegExp(
        `^checked ${before.checked} blobs \\(.+\\): 1 rotten copy dropped; repair brings it back from peers\n$`,
      ),
    );
    expect(await walk(join(c.dirB, 'blobs'))).not.toContain(victim);
    const st = JSON.parse((await runCli(['status', '--json', '--dir', c.dirB])).stdout);
    expect(st.scrubRotten).toBe(1);
    // every file still reads on B, the dropped one from A
    const out = join(c.root, 'after-scrub.bin');
    expect((await runCli(['get', 'docs/input.bin', '-o', out, '--dir', c.dirB])).code).toBe(0);
    expect(await sha256File(out)).toBe(c.inputSha);
  });
});
