// Scenario 7: intruders. A node with the right vault key but a wrong cluster secret cannot
// join, store, read or delete; a plain TCP client cannot either; the API wants its token.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  initNode,
  keyFile,
  NodeProc,
  patternSha256,
  patternStream,
  sleep,
  startCluster,
  stopCluster,
  tempDir,
} from './harness.js';
import { record } from './report.js';

let nodes: NodeProc[] = [];
let intruder: NodeProc | undefined;

beforeAll(async () => {
  nodes = await startCluster(3, { replicas: 3 });
});
afterAll(async () => {
  await stopCluster([...nodes, ...(intruder ? [intruder] : [])]);
});

/** Replaces the cluster secret in a key file by random bytes in the same encoding. */
async function forgeClusterSecret(path: string): Promise<void> {
  const keys = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const field = Object.keys(keys).find((k) => /cluster/i.test(k));
  if (!field) throw new Error(`no cluster secret field in ${path}`);
  const old = String(keys[field]);
  keys[field] = /^[0-9a-f]+$/.test(old)
    ? randomBytes(32).toString('hex')
    : randomBytes(32).toString('base64');
  await writeFile(path, JSON.stringify(keys), { mode: 0o600 });
}

it('keeps out a node with the wrong cluster secret, plain TCP clients and tokenless requests', async () => {
  const started = Date.now();
  const [a, b] = nodes as [NodeProc, NodeProc];
  const size = 2 * 1024 * 1024;
  expect((await a.put('secret-file', patternStream('secret', size))).status).toBeLessThan(300);
  const want = await patternSha256('secret', size);

  // Same vault key, forged cluster secret.
  const dir = await tempDir('intruder');
  await initNode(dir, { join: keyFile(a.dir) });
  await forgeClusterSecret(keyFile(dir));
  intruder = await new NodeProc(dir, { bootstrap: [a.listenAddr, b.listenAddr] }).start();
  await sleep(3000);
  expect(await intruder.peerCount()).toBe(0);
  for (const n of nodes) expect(await n.peerCount()).toBe(2);

  // It cannot read, cannot push data in, cannot delete.
  const got = await intruder.get('secret-file', 15_000);
  expect(got.status).toBe(404);
  const put = await intruder.put('planted', patternStream('planted', 10_000));
  expect(put.status).toBeLessThan(300);
  expect(Number(put.json.replicas ?? 0)).toBe(0);
  expect(await intruder.del('secret-file', true)).toBeLessThan(500);
  await sleep(500);
  for (const n of nodes) {
    expect((await n.get('secret-file')).sha256).toBe(want);
    expect((await n.get('planted')).status).toBe(404);
  }

  // A plain TCP client speaking garbage (or a would-be frame) is cut off.
  const [host, port] = [
    a.listenAddr.slice(0, a.listenAddr.lastIndexOf(':')),
    Number(a.listenAddr.split(':').pop()),
  ];
  const closed = await new Promise<boolean>((resolve) => {
    const s = connect(port, host, () =>
      s.write(Buffer.from('\x01\x00\x00\x00\x00\x00\x00\x00\x10{"type":"delete"}')),
    );
    s.on('error', () => {});
    s.on('close', () => resolve(true));
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 20_000);
  });
  expect(closed).toBe(true);
  expect((await a.get('secret-file')).sha256).toBe(want);

  // The API refuses requests without the right token.
  for (const headers of [
    {} as Record<string, string>,
    { authorization: 'Bearer wrong' },
    { authorization: a.token },
  ]) {
    const res = await fetch(a.fileUrl('secret-file'), { headers });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  }
  const del = await fetch(a.fileUrl('secret-file'), { method: 'DELETE' });
  expect(del.status).toBe(401);
  expect((await a.get('secret-file')).sha256).toBe(want);

  await record({
    scenario: '7 intruders',
    filesPut: 1,
    faultsInjected: 7,
    filesLost: 0,
    peakRssMiB: Math.max(...nodes.map((n) => n.peakRssKiB)) / 1024,
    durationS: (Date.now() - started) / 1000,
    notes:
      'forged-secret node never joined, read, planted or deleted; plain TCP cut off; 401 without token',
  });
});
