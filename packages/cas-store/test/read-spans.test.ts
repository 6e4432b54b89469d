import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CasStore } from '../src/index.js';
import { collect, NS, pattern, removeDir, tempDir, walk } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

async function store(): Promise<{ store: CasStore; root: string }> {
  const root = await tempDir();
  dirs.push(root);
  const s = new CasStore({ root });
  await s.open();
  return { store: s, root };
}

describe('CasStore read with spans', () => {
  it('reads only the spans asked for, in order, across read-chunk edges', async () => {
    const { store: s } = await store();
    const data = pattern(3 * 1024 * 1024 + 7);
    await s.write(NS, 'k', [data]);
    const spans = [
      { offset: 0, length: 54 },
      { offset: 1024 * 1024 - 3, length: 1024 * 1024 + 10 },
      { offset: data.length - 1, length: 1 },
      { offset: 5, length: 0 },
    ];
    const got = await collect((await s.read(NS, 'k', { spans })).stream);
    const want = Buffer.concat(spans.map((x) => data.subarray(x.offset, x.offset + x.length)));
    expect(got.equals(want)).toBe(true);
  });

  it('chooses spans from the metadata of the version it opens', async () => {
    const { store: s } = await store();
    await s.write(NS, 'k', [pattern(1000)], { extra: { cut: 10 } });
    const { stream, meta } = await s.read(NS, 'k', {
      spans: (m) => [{ offset: m.size - (m.extra?.cut as number), length: 10 }],
    });
    expect(meta.size).toBe(1000);
    expect((await collect(stream)).equals(pattern(1000).subarray(990))).toBe(true);
  });

  it('refuses a span outside the blob with ERR_INVALID_ARGUMENT and keeps no file open', async () => {
    const { store: s } = await store();
    await s.write(NS, 'k', [pattern(100)]);
    for (const spans of [[{ offset: 90, length: 11 }], [{ offset: -1, length: 1 }]]) {
      await expect(s.read(NS, 'k', { spans })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
    // the handle was closed: the blob can still be deleted and leaves nothing behind
    expect(await s.delete(NS, 'k')).toBe(true);
  });

  it('a blob cut short behind its back fails the span read with ERR_INTEGRITY', async () => {
    const { store: s, root } = await store();
    await s.write(NS, 'k', [pattern(4 * 1024 * 1024)]);
    const blob = (await walk(root)).find((p) => p.endsWith('.blob'))!;
    const { stream } = await s.read(NS, 'k', { spans: [{ offset: 0, length: 4 * 1024 * 1024 }] });
    await truncate(join(root, blob), 1024);
    await expect(collect(stream)).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  });
});
