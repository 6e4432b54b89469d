// Scenario 4: bytes flipped in stored replicas on disk. Every get returns the right bytes or
// a clear ERR_INTEGRITY, never wrong bytes.
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  blobFiles,
  fileSize,
  type NodeProc,
  patternSha256,
  patternStream,
  startCluster,
  stopCluster,
} from './harness.js';
import { record } from './report.js';

let nodes: NodeProc[] = [];

beforeAll(async () => {
  nodes = await startCluster(3, { replicas: 3 });
});
afterAll(async () => {
  await stopCluster(nodes);
});

async function flip(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x5a;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

it('never returns wrong bytes from rotten replicas', async () => {
  const started = Date.now();
  const [a] = nodes as [NodeProc];
  const FILES = 8;
  const sizes = Array.from({ length: FILES }, (_, i) => 1000 + i * 300_000);
  const want: string[] = [];
  for (let i = 0; i < FILES; i++) {
    expect((await a.put(`rot/${i}`, patternStream(`rot${i}`, sizes[i]!))).status).toBeLessThan(300);
    want.push(await patternSha256(`rot${i}`, sizes[i]!));
  }
  // Rot: on node 0 flip a byte in every blob; on node 1 in half of them; node 2 stays healthy.
  let faults = 0;
  for (const [ni, node] of nodes.slice(0, 2).entries()) {
    const files = await blobFiles(node.dir);
    expect(files.length).toBe(FILES);
    for (const [fi, f] of files.entries()) {
      if (ni === 1 && fi % 2 === 1) continue;
      await flip(f, Math.floor((await fileSize(f)) / 2));
      faults++;
    }
  }
  let right = 0;
  let integrityErrors = 0;
  for (const node of nodes) {
    for (let i = 0; i < FILES; i++) {
      const got = await node.get(`rot/${i}`);
      if (got.status === 200) {
        expect(got.sha256).toBe(want[i]);
        right++;
      } else {
        expect(got.error?.code).toBe('ERR_INTEGRITY');
        integrityErrors++;
      }
    }
  }
  // A healthy replica exists for every file, so every get should find the right bytes.
  expect(right).toBe(FILES * nodes.length);
  await record({
    scenario: '4 bit rot',
    filesPut: FILES,
    faultsInjected: faults,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: `${right} gets right, ${integrityErrors} ERR_INTEGRITY, 0 wrong bytes`,
  });
});
