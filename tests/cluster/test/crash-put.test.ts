// Scenario 1: the writing node is SIGKILLed half-way through a 200 MiB put. After a restart
// the key is absent or complete on every node, never partial, and no temp files are left.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  leftoverTempFiles,
  type NodeProc,
  patternSha256,
  patternStream,
  sleep,
  startCluster,
  stopCluster,
  waitFor,
} from './harness.js';
import { record } from './report.js';

const SIZE = 200 * 1024 * 1024;
let nodes: NodeProc[] = [];

beforeAll(async () => {
  nodes = await startCluster(3, { replicas: 3 });
});
afterAll(async () => {
  await stopCluster(nodes);
});

it('a put cut by SIGKILL leaves the key absent or complete everywhere, and no temp files', async () => {
  const started = Date.now();
  const [a] = nodes as [NodeProc];
  const want = await patternSha256('crash-put', SIZE);
  let sent = 0;
  let killed = false;
  async function* body() {
    for await (const c of patternStream('crash-put', SIZE)) {
      sent += c.length;
      if (!killed && sent > SIZE / 2) {
        killed = true;
        await a.kill();
        await sleep(50);
      }
      yield c;
    }
  }
  const put = await a.put('big-crash', body()).catch((e: unknown) => ({ status: 0, error: e }));
  expect(killed).toBe(true);
  expect(put.status === 0 || put.status >= 500).toBe(true);

  await a.start();
  await waitFor('a rejoins', async () => (await a.peerCount()) === nodes.length - 1);
  let complete = 0;
  for (const node of nodes) {
    const got = await node.get('big-crash', 120_000);
    if (got.status === 200) {
      expect(got.sha256).toBe(want);
      complete++;
    } else {
      expect(got.status).toBe(404);
      expect(got.error?.code).toBe('ERR_NOT_FOUND');
    }
  }
  for (const node of nodes) {
    const leftovers = await leftoverTempFiles(node.dir);
    expect(leftovers).toEqual([]);
  }
  await record({
    scenario: '1 crash during put',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: `200 MiB put killed at ~100 MiB; complete on ${complete}/3 nodes, absent elsewhere`,
  });
});
