// Scenario 3: 2,000 files of random sizes put through random nodes of a 5-node cluster while
// nodes are SIGKILLed and restarted; every acknowledged put must be readable, byte-identical,
// from every vault node at the end (the test keeps the SHA-256 manifest).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type NodeProc, sleep, startCluster, stopCluster, waitFor } from './harness.js';
import { record } from './report.js';

const FILES = Number(process.env.SOAK_FILES ?? 2000);
const MAX = 8 * 1024 * 1024;
const KILLS = 6;
const CONCURRENCY = 4;
// Node 4 holds only the cluster secret: it stores sealed replicas and is never asked for plaintext.
const STORAGE_ONLY = 4;
let nodes: NodeProc[] = [];

beforeAll(async () => {
  nodes = await startCluster(5, { replicas: 3, storageOnly: [STORAGE_ONLY] });
}, 480_000);
afterAll(async () => {
  await stopCluster(nodes);
}, 480_000);

/** Log-uniform sizes from 0 B to 8 MiB: many small files, some large, about 0.5 MiB mean. */
function sizeOf(i: number): number {
  const u = createHash('sha256').update(`size:${i}`).digest().readUInt32BE(0) / 2 ** 32;
  return Math.max(0, Math.floor(Math.exp(u * Math.log(MAX + 1))) - 1);
}

function contentOf(i: number, size: number): Buffer {
  const seed = createHash('sha512').update(`soak:${i}`).digest();
  const buf = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; off += seed.length) seed.copy(buf, off);
  return buf;
}

it('keeps every acknowledged put through random kills and restarts', async () => {
  const started = Date.now();
  const vault = nodes.filter((_, i) => i !== STORAGE_ONLY);
  const manifest = new Map<string, string>();
  let next = 0;
  let failedPuts = 0;
  let kills = 0;

  const killer = (async () => {
    // Spread a bounded number of kills over the run; never more than one node down at a time.
    while (kills < KILLS && next < FILES) {
      await sleep(1500 + Math.random() * 1500);
      const victim = nodes[Math.floor(Math.random() * nodes.length)]!;
      await victim.kill();
      kills++;
      await sleep(300 + Math.random() * 700);
      // Same port: peers that knew the old address find it again.
      victim.opts.listen = victim.listenAddr;
      await victim.start();
    }
  })();

  const worker = async () => {
    while (next < FILES) {
      const i = next++;
      const size = sizeOf(i);
      const data = contentOf(i, size);
      const through = vault.filter((n) => n.running);
      const node = through[Math.floor(Math.random() * through.length)];
      if (!node) continue;
      const key = `soak/${i}`;
      try {
        const res = await node.put(key, data, AbortSignal.timeout(60_000));
        if (res.status >= 200 && res.status < 300) {
          manifest.set(key, createHash('sha256').update(data).digest('hex'));
        } else failedPuts++;
      } catch {
        failedPuts++; // the node died under us: not acknowledged, so not owed
      }
    }
  };
  await Promise.all([killer, ...Array.from({ length: CONCURRENCY }, worker)]);
  for (const n of nodes) if (!n.running) await n.start();
  await waitFor(
    'cluster re-forms',
    async () => {
      for (const n of nodes) if ((await n.peerCount()) < nodes.length - 1) return false;
      return true;
    },
    60_000,
  );

  let lost = 0;
  const lostKeys: string[] = [];
  for (const node of vault) {
    const keys = [...manifest.keys()];
    const check = async () => {
      for (let k = keys.pop(); k !== undefined; k = keys.pop()) {
        const got = await node.get(k, 60_000);
        if (got.status !== 200 || got.sha256 !== manifest.get(k)) {
          lost++;
          if (lostKeys.length < 10) lostKeys.push(`${k}@${node.dir}: ${got.status}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, check));
  }
  const peak = Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024;
  await record({
    scenario: '3 soak (5 nodes, kills and restarts)',
    filesPut: manifest.size,
    faultsInjected: kills,
    filesLost: lost,
    peakRssMiB: peak,
    durationS: (Date.now() - started) / 1000,
    notes: `${FILES} puts tried, ${failedPuts} refused or cut by a kill; each acknowledged file read from ${vault.length} vault nodes`,
  });
  expect(lostKeys).toEqual([]);
  expect(lost).toBe(0);
  expect(manifest.size).toBeGreaterThan(FILES * 0.5);
  expect(kills).toBe(KILLS);
}, 480_000);
