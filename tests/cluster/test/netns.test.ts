// Scenario 8: three nodes on separate hosts: network namespaces joined through a bridge by
// veth pairs, with shaped links. Put and get work across them, and cutting the serving
// node's link mid-get fails over to another replica.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  findSender,
  initNode,
  keyFile,
  NodeProc,
  patternSha256,
  patternStream,
  stopCluster,
  tempDir,
  waitFor,
} from './harness.js';
import { record } from './report.js';

const tag = `ps${process.pid % 10_000}`;
const net = `10.201.${20 + (process.pid % 200)}`;
const bridge = `${tag}br`;
const spaces = [1, 2, 3].map((i) => `${tag}n${i}`);
let shaping = '';
let skipReason = '';
const nodes: NodeProc[] = [];

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' }).toString();
}

function addQdisc(ns: string, ...qdisc: string[]): void {
  sh('ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...qdisc);
}

function tryShape(ns: string): string {
  // netem gives delay and loss; where the kernel lacks it, shape the rate with tbf instead.
  try {
    addQdisc(ns, 'netem', 'delay', '5ms', '1ms', 'loss', '0.2%', 'rate', '400mbit');
    return 'netem delay 5ms±1ms, loss 0.2%, 400 Mbit/s';
  } catch (e) {
    const why = String((e as { stderr?: Buffer }).stderr ?? e).trim();
    addQdisc(ns, 'tbf', 'rate', '400mbit', 'burst', '256kb', 'latency', '50ms');
    return `tbf 400 Mbit/s (netem unavailable: ${why})`;
  }
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    skipReason = 'not root: cannot create network namespaces';
  } else {
    try {
      sh('ip', 'link', 'add', bridge, 'type', 'bridge');
      sh('ip', 'addr', 'add', `${net}.254/24`, 'dev', bridge);
      sh('ip', 'link', 'set', bridge, 'up');
      for (const [i, ns] of spaces.entries()) {
        sh('ip', 'netns', 'add', ns);
        sh('ip', 'link', 'add', `${ns}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        sh('ip', 'link', 'set', `${ns}h`, 'master', bridge);
        sh('ip', 'link', 'set', `${ns}h`, 'up');
        sh('ip', '-n', ns, 'addr', 'add', `${net}.${i + 1}/24`, 'dev', 'eth0');
        sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
        shaping = tryShape(ns);
      }
    } catch (e) {
      skipReason = `cannot build network namespaces here: ${String(e).split('\n')[0]}`;
    }
  }
  if (skipReason) {
    console.log(`SKIPPED separate-hosts scenario: ${skipReason}`);
    return;
  }
  console.log(`separate hosts: 3 namespaces on ${net}.0/24, links shaped with ${shaping}`);
  const first = await tempDir('ns1');
  await initNode(first);
  const dirs = [first];
  for (let i = 1; i < 3; i++) {
    const d = await tempDir(`ns${i + 1}`);
    await initNode(d, { join: keyFile(first) });
    dirs.push(d);
  }
  for (const [i, dir] of dirs.entries()) {
    const ip = `${net}.${i + 1}`;
    const node = new NodeProc(dir, {
      netns: spaces[i],
      listen: `${ip}:7100`,
      apiHost: ip,
      replicas: 3,
      bootstrap: i === 0 ? [] : [`${net}.1:7100`],
      // Repair rounds off: they would hand c its copy back before the get.
      extraArgs: ['--repair-interval', '0'],
    });
    nodes.push(await node.start(30_000));
  }
  await waitFor(
    'mesh across namespaces',
    async () => {
      for (const n of nodes) if ((await n.peerCount()) < 2) return false;
      return true;
    },
    60_000,
  );
});

afterAll(async () => {
  await stopCluster(nodes);
  for (const ns of spaces) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {}
  }
  try {
    sh('ip', 'link', 'del', bridge);
  } catch {}
});

it('puts and gets across hosts, and fails over when the serving link is cut', async (ctx) => {
  if (skipReason) {
    ctx.skip(skipReason);
    return;
  }
  const started = Date.now();
  const [a, b, c] = nodes as [NodeProc, NodeProc, NodeProc];
  const size = 64 * 1024 * 1024;
  const want = await patternSha256('ns', size);
  expect((await a.put('across', patternStream('ns', size))).status).toBeLessThan(300);
  expect((await b.get('across')).sha256).toBe(want);

  // c forgets its copy, so its get must come from a or b; cut whichever link is serving.
  expect(await c.del('across')).toBeLessThan(300);
  let get!: ReturnType<NodeProc['get']>;
  const cut = await findSender([a, b], () => {
    get = c.get('across', 180_000);
  });
  expect(cut).toBeGreaterThanOrEqual(0);
  sh('ip', '-n', spaces[cut]!, 'link', 'set', 'eth0', 'down');
  const got = await get;
  expect(got.status).toBe(200);
  expect(got.sha256).toBe(want);
  sh('ip', '-n', spaces[cut]!, 'link', 'set', 'eth0', 'up');
  await record({
    scenario: '8 separate hosts (netns)',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: `links: ${shaping}; serving link cut mid-get, failed over`,
  });
}, 300_000);
