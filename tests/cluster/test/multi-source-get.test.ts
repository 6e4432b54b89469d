// Scenario: a get from several holders at once loses two of its three mid-transfer — one
// frozen (SIGSTOP: sockets open, nothing answered), one SIGKILLed — and completes from the third.
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

const SIZE = 192 * 1024 * 1024;
const KEY = 'multi-source-get';
let nodes: NodeProc[] = [];

beforeAll(async () => {
  // Repair rounds off: they would hand d its copy back and turn the get into a local read.
  nodes = await startCluster(4, { replicas: 4, extraArgs: ['--repair-interval', '0'] });
});
afterAll(async () => {
  for (const n of nodes) n.thaw();
  await stopCluster(nodes);
});

/** Waits until at least `n` of `holders` have sent over 1 MiB since `before`; their indexes. */
async function serving(holders: NodeProc[], before: number[], n: number): Promise<number[]> {
  for (let i = 0; i < 2000; i++) {
    const now = await Promise.all(holders.map((h) => h.metric('peerstash_bytes_out_total')));
    const moving = now.flatMap((v, j) => (v - before[j]! > 1024 * 1024 ? [j] : []));
    if (moving.length >= n) return moving;
    await sleep(10);
  }
  return [];
}

it('a multi-source get survives one holder frozen and one killed mid-get, byte-identical', async () => {
  const started = Date.now();
  const [a, b, c, d] = nodes as [NodeProc, NodeProc, NodeProc, NodeProc];
  const want = await patternSha256(KEY, SIZE);
  const put = await a.put(KEY, patternStream(KEY, SIZE));
  expect(put.status).toBeLessThan(300);
  // d forgets its own copy, so its get has to come over the network, from a, b and c
  expect(await d.del(KEY)).toBeLessThan(300);

  const holders = [a, b, c];
  const before = await Promise.all(holders.map((h) => h.metric('peerstash_bytes_out_total')));
  const get = d.get(KEY, 180_000);
  // several holders at once: at least two are sending before any fault
  const moving = await serving(holders, before, 2);
  expect(moving.length).toBeGreaterThanOrEqual(2);
  const [frozen, killed] = [holders[moving[0]!]!, holders[moving[1]!]!];
  frozen.freeze();
  await killed.kill();
  const got = await get;
  frozen.thaw();
  expect(got.status).toBe(200);
  expect(got.size).toBe(SIZE);
  expect(got.sha256).toBe(want);
  await record({
    scenario: 'multi-source get, holder frozen + holder killed',
    filesPut: 1,
    faultsInjected: 2,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: `${SIZE / 1024 / 1024} MiB get from 3 holders; one SIGSTOPped, one SIGKILLed mid-get`,
  });
});
