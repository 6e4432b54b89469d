import { readFile } from 'node:fs/promises';
import { deriveFileId } from '@peerstash/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankNodes } from '../src/index.js';
import {
  blobFiles,
  type Cluster,
  flipByte,
  pattern,
  patternSha,
  sha256Of,
  startCluster,
  waitFor,
  walk,
} from './helpers.js';

async function metric(node: Cluster['nodes'][number], line: RegExp): Promise<number> {
  const text = await node.metrics.registry.metrics();
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('integrity', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster(4);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('a replica with one flipped byte is skipped and reported; the right bytes come from another', async () => {
    const [a, , , d] = c.nodes as [
      Cluster['nodes'][0],
      Cluster['nodes'][0],
      Cluster['nodes'][0],
      Cluster['nodes'][0],
    ];
    const size = 700_000;
    const key = 'rotten';
    await a.store(key, pattern(key, size));
    await d.delete(key);
    // the peer d asks first holds the rotten copy
    const id = deriveFileId(c.vaultKey, key);
    const peersOfD = (await d.status()).peers.map((p) => p.id);
    const first = rankNodes(id, peersOfD)[0]!;
    const victim = c.nodes.findIndex((n) => n.nodeId === first);
    const [blob] = await blobFiles(c.dirs[victim]!);
    await flipByte(blob!, 1234);

    expect(await sha256Of(await d.get(key))).toBe(await patternSha(key, size));
    expect(await metric(d, /peerstash_integrity_failures_total\{source="peer"\} (\d+)/)).toBe(1);
    // the holder re-checks its copy on the report and drops it
    await waitFor('rotten replica dropped', async () => !(await c.nodes[victim]!.has(key)));
    expect(
      await metric(c.nodes[victim]!, /peerstash_integrity_failures_total\{source="local"\} (\d+)/),
    ).toBe(1);
  });

  it('a rotten chunk mid-stream: the node switches to a good replica at the same byte and heals', async () => {
    const [a, b] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    const key = 'rotten-local';
    const size = 3_000_000;
    await a.store(key, pattern(key, size));
    const id = deriveFileId(c.vaultKey, key);
    // b's blob for this key: the one whose metadata names this file id
    let target: string | undefined;
    for (const p of await walk(c.dirs[1]!)) {
      if (p.endsWith('.meta.json') && (await readFile(p, 'utf8')).includes(id)) {
        const meta = JSON.parse(await readFile(p, 'utf8')) as { blob: string };
        target = p.replace(/[^/]+$/, meta.blob);
      }
    }
    expect(target).toBeDefined();
    await flipByte(target!, 2_000_000);
    const before = await metric(b, /peerstash_integrity_failures_total\{source="local"\} (\d+)/);
    const first = await b.read(key);
    expect(first.source).toBe('local');
    expect(await sha256Of(first.stream)).toBe(await patternSha(key, size));
    expect(await metric(b, /peerstash_integrity_failures_total\{source="local"\} (\d+)/)).toBe(
      before + 1,
    );
    // healed: the next read is local and clean
    const again = await b.read(key);
    expect(again.source).toBe('local');
    expect(await sha256Of(again.stream)).toBe(await patternSha(key, size));
  });

  it('a rotten header is repaired before the first byte goes out', async () => {
    const b = c.nodes[1]!;
    const key = 'rotten-header';
    await c.nodes[0]!.store(key, pattern(key, 90_000));
    const id = deriveFileId(c.vaultKey, key);
    for (const p of await walk(c.dirs[1]!)) {
      if (p.endsWith('.meta.json') && (await readFile(p, 'utf8')).includes(id)) {
        const meta = JSON.parse(await readFile(p, 'utf8')) as { blob: string };
        await flipByte(p.replace(/[^/]+$/, meta.blob), 10);
      }
    }
    const got = await b.read(key);
    expect(got.source).toBe('peer');
    expect(await sha256Of(got.stream)).toBe(await patternSha(key, 90_000));
  });

  it('when every copy is rotten, get fails with ERR_INTEGRITY rather than wrong bytes', async () => {
    const key = 'all-rotten';
    await c.nodes[0]!.store(key, pattern(key, 2_000_000));
    const id = deriveFileId(c.vaultKey, key);
    for (const dir of c.dirs) {
      for (const p of await walk(dir)) {
        if (p.endsWith('.meta.json') && (await readFile(p, 'utf8')).includes(id)) {
          const meta = JSON.parse(await readFile(p, 'utf8')) as { blob: string };
          await flipByte(p.replace(/[^/]+$/, meta.blob), 1_500_000);
        }
      }
    }
    // the first chunk is sound, so the stream starts; the rotten one ends it with ERR_INTEGRITY
    await expect(sha256Of(await c.nodes[2]!.get(key))).rejects.toMatchObject({
      code: 'ERR_INTEGRITY',
    });
    // a node that must fetch it tries every peer's copy, fails the same way, and keeps none
    await c.nodes[3]!.delete(key);
    await expect(sha256Of(await c.nodes[3]!.get(key))).rejects.toMatchObject({
      code: 'ERR_INTEGRITY',
    });
    expect(await c.nodes[3]!.has(key)).toBe(false);
  });
});
