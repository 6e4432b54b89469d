// A node started with --append-only, driven by restic over its REST gateway: backups work, a
// data file cannot be deleted (403, and it stays), and `restic forget --prune` fails cleanly.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok, run } from '../../../packages/gateway/test/clients.js';
import { stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, resticRepo, startGatewayCluster } from './cluster.js';

let c: GatewayCluster;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  c = await startGatewayCluster(['--append-only']);
  work = await tempDir('gw-ao');
  env = {
    RESTIC_REPOSITORY: resticRepo(c, 'ao'),
    RESTIC_PASSWORD: 'pw',
    RESTIC_CACHE_DIR: join(work, 'cache'),
  };
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

const auth = () =>
  `Basic ${Buffer.from(`${c.key.accessKeyId}:${c.key.secretAccessKey}`).toString('base64')}`;

/** The data files of the repository, as restic's REST v2 listing names them. */
async function dataFiles(): Promise<{ name: string; size: number }[]> {
  const res = await fetch(`${c.restic}/ao/data/`, {
    headers: { authorization: auth(), accept: 'application/vnd.x.restic.rest.v2' },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { name: string; size: number }[];
}

const snapshots = async () =>
  JSON.parse((await ok('restic', ['snapshots', '--json'], { env })).stdout) as { id: string }[];

test('backup works; a data file cannot be deleted; forget --prune fails cleanly', async () => {
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 8; i++)
    await writeFile(join(src, 'sub', `f${i}`), `file ${i}\n`.repeat(i * 500));
  await ok('restic', ['init'], { env });
  await ok('restic', ['backup', '--host', 'h', src], { env });
  await writeFile(join(src, 'later.txt'), 'a second backup\n');
  await ok('restic', ['backup', '--host', 'h', src], { env });
  expect(await snapshots()).toHaveLength(2);

  const data = await dataFiles();
  expect(data.length).toBeGreaterThan(0);
  const victim = data[0]!;
  const url = `${c.restic}/ao/data/${victim.name}`;
  const del = await fetch(url, { method: 'DELETE', headers: { authorization: auth() } });
  expect(del.status).toBe(403);
  await del.arrayBuffer();
  // still there, whole, through the gateway and on another node of the cluster
  const head = await fetch(url, { method: 'HEAD', headers: { authorization: auth() } });
  expect([head.status, Number(head.headers.get('content-length'))]).toEqual([200, victim.size]);
  expect(await dataFiles()).toEqual(data);
  const elsewhere = await c.nodes[2]!.get(`restic/ao/data/${victim.name}`);
  expect([elsewhere.status, elsewhere.size]).toEqual([200, victim.size]);

  // restic retries the refused deletes (~45 s in 0.14, no flag shortens it), then gives up with an error
  const forget = await run('restic', ['forget', '--keep-last', '1', '--prune'], {
    env,
    timeoutMs: 240_000,
  });
  expect(forget.code).not.toBe(0);
  expect(forget.code).not.toBeNull(); // exited, not killed by the timeout
  expect(forget.stderr).toMatch(/unable to remove <snapshot\/[0-9a-f]+> from the repository/);
  expect(forget.stderr).toContain('403 Forbidden');
  expect(forget.stderr).not.toMatch(/panic|goroutine/);
  // nothing was lost: both snapshots, every data file, and the repository checks clean
  expect(await snapshots()).toHaveLength(2);
  expect(await dataFiles()).toEqual(data);
  await ok('restic', ['check', '--read-data'], { env });
  // the node still serves after all that
  expect((await c.nodes[0]!.status()).gateways).toEqual({ s3: c.s3, restic: c.restic });
}, 300_000);
