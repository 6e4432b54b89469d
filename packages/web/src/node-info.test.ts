import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readNodeInfo } from './node-info.js';

describe('node info from the data dir', () => {
  let dir: string | undefined;
  afterEach(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('reads disk space and the valid peers of node.json', async () => {
    dir = await mkdtemp(join(tmpdir(), 'peerstash-web-'));
    const good = { id: 'a'.repeat(64), addr: '127.0.0.1:7000' };
    await writeFile(
      join(dir, 'node.json'),
      JSON.stringify({ nodeId: 'b'.repeat(64), peers: [good, { id: 'junk', addr: 'x' }, 7] }),
    );
    const info = await readNodeInfo(dir);
    expect(info.knownPeers).toEqual([good]);
    expect(info.disk!.total).toBeGreaterThan(0);
    expect(info.disk!.free).toBeGreaterThanOrEqual(0);
    expect(info.disk!.free).toBeLessThanOrEqual(info.disk!.total);
  });

  it('knows nothing without a data dir or with a damaged node.json', async () => {
    expect(await readNodeInfo(undefined)).toEqual({ disk: null, knownPeers: [] });
    dir = await mkdtemp(join(tmpdir(), 'peerstash-web-'));
    await writeFile(join(dir, 'node.json'), '{not json');
    expect((await readNodeInfo(dir)).knownPeers).toEqual([]);
  });
});
