// Scenario 2: the peer serving a get is SIGKILLed mid-transfer; the get completes from
// another replica with the right bytes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  findSender,
  type NodeProc,
  patternSha256,
  patternStream,
  startCluster,
  stopCluster,
} from './harness.js';
import { record } from './report.js';

const SIZE = 160 * 1024 * 1024;
let nodes: NodeProc[] = [];

beforeAll(async () => {
  // Repair rounds off: they would hand d its copy back and turn the get into a local read.
  nodes = await startCluster(4, { replicas: 4, extraArgs: ['--repair-interval', '0'] });
});
afterAll(async () => {
  await stopCluster(nodes);
});

it('a get whose serving peer dies mid-transfer completes from another replica', async () => {
  const started = Date.now();
  const [a, b, c, d] = nodes as [NodeProc, NodeProc, NodeProc, NodeProc];
  const want = await patternSha256('crash-get', SIZE);
  const put = await a.put('crash-get', patternStream('crash-get', SIZE));
  expect(put.status).toBeLessThan(300);
  // d forgets its own copy, so its get has to come over the network.
  expect(await d.del('crash-get')).toBeLessThan(300);

  // Find the peer that is sending (its bytes-out counter moves) and kill it.
  let get!: ReturnType<NodeProc['get']>;
  const j = await findSender([a, b, c], () => {
    get = d.get('crash-get', 120_000);
  });
  expect(j).toBeGreaterThanOrEqual(0);
  await [a, b, c][j]!.kill();
  const got = await get;
  expect(got.status).toBe(200);
  expect(got.sha256).toBe(want);
  await record({
    scenario: '2 crash during get',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: '160 MiB get; serving peer SIGKILLed mid-transfer; completed from another replica',
  });
});
