// Scenario: chain replication (writer → head → tail) loses its middle node mid-put, once to
// SIGKILL and once to SIGSTOP (a hung node). Four nodes, R = 2: the put still ends with R
// byte-identical replicas (the tail and the spare get theirs directly from the writer's copy),
// the frozen one is bypassed after the stall timeout, and nothing partial is left anywhere.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  blobFiles,
  leftoverTempFiles,
  type NodeProc,
  patternSha256,
  patternStream,
  randomKey,
  sleep,
  startCluster,
  stopCluster,
  waitFor,
} from './harness.js';
import { record } from './report.js';

const SIZE = 192 * 1024 * 1024;
/** The node's default stallTimeoutMs. */
const STALL_MS = 10_000;
let nodes: NodeProc[] = [];

beforeAll(async () => {
  // repair off: it would move copies around while they are counted
  nodes = await startCluster(4, {
    replicas: 2,
    allArgs: ['--replication-mode', 'chain', '--repair-interval', '0'],
  });
});
afterAll(async () => {
  for (const n of nodes) n.thaw();
  await stopCluster(nodes);
});

async function forwardedBytes(n: NodeProc): Promise<number> {
  const res = await fetch(`${n.apiBase}/metrics`, {
    headers: n.headers(),
    signal: AbortSignal.timeout(5_000),
  });
  const m = /peerstash_bytes_out_total\{via="forward"\} (\d+)/.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

/** The peer forwarding this put down the chain (its forward counter moved by 8 MiB). */
async function middleOf(peers: NodeProc[]): Promise<NodeProc | undefined> {
  const before = await Promise.all(peers.map(forwardedBytes));
  for (let i = 0; i < 3000; i++) {
    const now = await Promise.all(peers.map(forwardedBytes));
    const j = now.findIndex((v, k) => v - before[k]! > 8 * 1024 * 1024);
    if (j >= 0) return peers[j];
    await sleep(10);
  }
  return undefined;
}

async function receivedBytes(n: NodeProc): Promise<number> {
  const res = await fetch(`${n.apiBase}/metrics`, {
    headers: n.headers(),
    signal: AbortSignal.timeout(5_000),
  });
  const m = /peerstash_bytes_in_total\{via="peer"\} (\d+)/.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** The nodes holding a blob with this sealed digest. */
async function holders(of: NodeProc[], digest: string): Promise<NodeProc[]> {
  const out: NodeProc[] = [];
  for (const n of of) {
    for (const f of await blobFiles(n.dir)) {
      if ((await sha256File(f)) === digest) {
        out.push(n);
        break;
      }
    }
  }
  return out;
}

async function rejoin(n: NodeProc): Promise<void> {
  await waitFor('full mesh again', async () => {
    for (const x of nodes) if ((await x.peerCount()) < nodes.length - 1) return false;
    return true;
  });
  expect(n.running).toBe(true);
}

it('the middle of a chain SIGKILLed mid-put: the put ends with R copies, nothing partial', async () => {
  const started = Date.now();
  const [a, ...peers] = nodes as [NodeProc, ...NodeProc[]];
  const key = randomKey('chain-kill');
  const want = await patternSha256(key, SIZE);
  const put = a.put(key, patternStream(key, SIZE), AbortSignal.timeout(180_000));
  const middle = await middleOf(peers);
  expect(middle).toBeDefined();
  await middle!.kill();
  const res = await put;
  expect(res.status).toBeLessThan(300);
  expect(res.json.replicas).toBe(2);
  const digest = String(res.json.digest);
  const others = nodes.filter((n) => n !== middle);
  // the writer's copy and R = 2 replicas on the tail and the spare, every one the same bytes
  expect(await holders(others, digest)).toHaveLength(3);
  await middle!.start();
  await rejoin(middle!);
  for (const n of nodes) expect(await leftoverTempFiles(n.dir)).toEqual([]);
  expect(await holders([middle!], digest)).toHaveLength(0);
  for (const n of others) {
    const got = await n.get(key, 120_000);
    expect(got.sha256).toBe(want);
  }
  await record({
    scenario: 'chain put, middle SIGKILLed',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: '192 MiB chain put (R = 2 of 3 peers), middle killed: 2 replicas (tail, spare) + writer',
  });
});

it('a frozen middle (SIGSTOP) is bypassed after the stall timeout: R copies, nothing partial', async () => {
  const started = Date.now();
  const [a, ...peers] = nodes as [NodeProc, ...NodeProc[]];
  const key = randomKey('chain-freeze');
  const want = await patternSha256(key, SIZE);
  const put = a.put(key, patternStream(key, SIZE), AbortSignal.timeout(180_000));
  const middle = await middleOf(peers);
  expect(middle).toBeDefined();
  middle!.freeze();
  const frozenAt = Date.now();
  const res = await put;
  const waited = (Date.now() - frozenAt) / 1000;
  middle!.thaw();
  expect(res.status).toBeLessThan(300);
  expect(res.json.replicas).toBe(2);
  // the writer gave up on the frozen head after the stall timeout (not the 30 s idle timeout)...
  const gaveUp = a.logs
    .join('')
    .split('\n')
    .map((l) => (l.includes('replica push: the peer took nothing') ? JSON.parse(l) : undefined))
    .find((l): l is { time: number } => l !== undefined && l.time > frozenAt);
  expect(gaveUp).toBeDefined();
  // (the stall clock starts only once the frozen node's socket buffers are full and bytes wait in
  // the writer; ticks are a tenth of it and a loaded host's late ticks count as progress: allow
  // 10 s on top, still well short of the idle timeout)
  expect(gaveUp!.time - frozenAt).toBeLessThan(STALL_MS + 10_000);
  // ...then sent the rest, two replicas from its copy and its catalog record (which waits for
  // the frozen node's answer up to the request timeout): short of idle + ack timeouts (90 s)
  expect(waited).toBeLessThan(60);
  const digest = String(res.json.digest);
  const others = nodes.filter((n) => n !== middle);
  expect(await holders(others, digest)).toHaveLength(3);
  // thawed, the middle finds its stream reset: it keeps nothing of this put
  await waitFor('no temp files on the thawed node', async () => {
    return (await leftoverTempFiles(middle!.dir)).length === 0;
  });
  expect(await holders([middle!], digest)).toHaveLength(0);
  for (const n of others) expect(await leftoverTempFiles(n.dir)).toEqual([]);
  for (const n of others) expect((await n.get(key, 120_000)).sha256).toBe(want);
  await record({
    scenario: 'chain put, middle frozen',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: `192 MiB chain put, middle SIGSTOPped: put done ${waited.toFixed(1)} s after the freeze`,
  });
});

it('a frozen tail: the middle drops it before the writer would blame the middle; a spare gets the copy', async () => {
  const started = Date.now();
  const [a, ...peers] = nodes as [NodeProc, ...NodeProc[]];
  await rejoin(a);
  const key = randomKey('chain-tail');
  const want = await patternSha256(key, SIZE);
  const before = await Promise.all(peers.map(receivedBytes));
  const put = a.put(key, patternStream(key, SIZE), AbortSignal.timeout(180_000));
  const middle = await middleOf(peers);
  expect(middle).toBeDefined();
  // the tail: the other peer taking the stream in
  let tail: NodeProc | undefined;
  for (let i = 0; i < 1000 && !tail; i++) {
    const now = await Promise.all(peers.map(receivedBytes));
    tail = peers.find((p, k) => p !== middle && now[k]! - before[k]! > 8 * 1024 * 1024);
    if (!tail) await sleep(10);
  }
  expect(tail).toBeDefined();
  tail!.freeze();
  const res = await put;
  tail!.thaw();
  expect(res.status).toBeLessThan(300);
  // the middle kept its copy (the writer did not give up on it), the spare got one directly
  expect(res.json.replicas).toBe(2);
  const digest = String(res.json.digest);
  const others = nodes.filter((n) => n !== tail);
  expect(await holders(others, digest)).toHaveLength(3);
  expect(middle!.logs.join('')).toContain('chain hop failed');
  await waitFor('no temp files on the thawed tail', async () => {
    return (await leftoverTempFiles(tail!.dir)).length === 0;
  });
  expect(await holders([tail!], digest)).toHaveLength(0);
  for (const n of others) expect((await n.get(key, 120_000)).sha256).toBe(want);
  await record({
    scenario: 'chain put, tail frozen',
    filesPut: 1,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: '192 MiB chain put, tail SIGSTOPped: middle dropped it, spare took the copy',
  });
});
