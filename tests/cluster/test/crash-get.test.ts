// Scenario 2: the peer serving a get is SIGKILLed mid-transfer; the get completes from
// another replica with the right bytes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type NodeProc,
  patternSha256,
  patternStream,
  sleep,
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

  const before = await Promise.all([a, b, c].map((n) => n.metric('peerstash_bytes_out_total')));
  const get = d.get('crash-get', 120_000);
  // Find the peer that is sending (its bytes-out counter moves) and kill it.
  let victim: NodeProc | undefined;
  for (let i = 0; i < 400 && !victim; i++) {
    await sleep(10);
    for (const [j, n] of [a, b, c].entries()) {
      const now = await n.metric('peerstash_bytes_out_total').catch(() => 0);
      if (now - before[j]! > 256 * 1024) victim = n;
    }
  }
  expect(victim).toBeDefined();
  await victim!.kill();
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
