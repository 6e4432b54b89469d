// status(): the figures agree with each other whenever they are read — before the first repair
// round, after a put or a delete, after a restart — not only right after a round.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { pattern, startNode, tempDir } from './helpers.js';

let node: FileServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('status', () => {
  it('keysHeld follows blobs between rounds and across a restart', async () => {
    dir = await tempDir('status');
    const vaultKey = randomBytes(32);
    node = await startNode({ dataDir: dir, vaultKey, replicationFactor: 1 });
    const counts = async () => {
      const st = await node!.status();
      return { blobs: st.blobs, keysHeld: st.keysHeld, rounds: st.repairRounds };
    };
    expect(await counts()).toEqual({ blobs: 0, keysHeld: 0, rounds: 0 });
    await node.store('a', pattern('a', 1000));
    await node.store('b', pattern('b', 1000));
    expect(await counts()).toEqual({ blobs: 2, keysHeld: 2, rounds: 0 }); // no round yet
    await node.repair();
    expect(await counts()).toEqual({ blobs: 2, keysHeld: 2, rounds: 1 });
    await node.delete('a');
    expect(await counts()).toEqual({ blobs: 1, keysHeld: 1, rounds: 1 }); // the round's 2 is stale
    await node.stop();
    node = await startNode({ dataDir: dir, vaultKey, replicationFactor: 1 });
    expect(await counts()).toEqual({ blobs: 1, keysHeld: 1, rounds: 0 });
  });
});
