// restic backs up through the gateway of a 3-node cluster while a node is SIGKILLed: a replica
// peer (the gateway keeps serving), or the gateway node itself, restarted on its addresses (restic's
// retries carry the same backup over). Nothing restic was told is stored is lost; every byte reads back.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, expect, test } from 'vitest';
import { ok, type RunResult, run } from '../../../packages/gateway/test/clients.js';
import {
  NodeProc,
  runCli,
  sleep,
  stopCluster,
  tempDir,
  waitFor,
} from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';
import { nodeModulesTree, resticEnv, restoreAndDiff, snapshots } from './trees.js';

let c: GatewayCluster | undefined;
let work: string | undefined;

afterEach(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
  c = undefined;
  work = undefined;
});

const TYPES = ['data', 'index', 'keys', 'snapshots'] as const;
/** startGatewayCluster runs every node with --replicas 2: two copies of each file. */
const COPIES = 2;

function auth(g: GatewayCluster): Record<string, string> {
  const basic = Buffer.from(`${g.key.accessKeyId}:${g.key.secretAccessKey}`).toString('base64');
  return { authorization: `Basic ${basic}` };
}

/** Every file of the repository as restic's REST listing shows it: `type/name` → size. */
async function repoFiles(g: GatewayCluster, repo: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const type of TYPES) {
    const res = await fetch(new URL(`${repo}/${type}/`, g.restic), {
      headers: { ...auth(g), accept: 'application/vnd.x.restic.rest.v2' },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`list ${type}: ${res.status}`);
    for (const f of (await res.json()) as { name: string; size: number }[]) {
      out.set(`${type}/${f.name}`, f.size);
    }
  }
  return out;
}

/** The SHA-256 of one repository file as the gateway serves it (restic names files by it). */
async function served(g: GatewayCluster, repo: string, file: string): Promise<string> {
  const res = await fetch(new URL(`${repo}/${file}`, g.restic), { headers: auth(g) });
  expect(res.status, file).toBe(200);
  const h = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
  return h.digest('hex');
}

/** Random bytes, so restic can neither deduplicate nor compress them. */
async function* noise(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
}

/** A tree of many small files and some packs' worth of larger ones, so a backup takes a while. */
async function bigTree(dir: string): Promise<void> {
  await nodeModulesTree(join(dir, 'nm'), { maxFiles: 6000 });
  await mkdir(join(dir, 'big'), { recursive: true });
  for (let i = 0; i < 12; i++) {
    const out = createWriteStream(join(dir, 'big', `blob${i}`));
    await pipeline(noise(12 * 1024 * 1024 + i * 4099), out);
  }
}

/** Starts a backup and resolves once restic has stored `packs` data files, still running. */
async function backupUntil(
  g: GatewayCluster,
  env: Record<string, string>,
  src: string,
  packs: number,
): Promise<{ done: Promise<RunResult>; finished: () => boolean }> {
  let over = false;
  const done = run('restic', ['backup', '--host', 'h', src], { env }).finally(() => {
    over = true;
  });
  const repo = new URL(env.RESTIC_REPOSITORY!.slice('rest:'.length)).pathname.slice(1, -1);
  await waitFor(
    `${packs} packs stored`,
    async () =>
      over ||
      [...(await repoFiles(g, repo)).keys()].filter((k) => k.startsWith('data/')).length >= packs,
    120_000,
  );
  return { done, finished: () => over };
}

/** How many keys under restic/<repo>/ have how many copies, as the catalog of `node` tells. */
async function copies(node: NodeProc, repo: string): Promise<Record<number, number>> {
  const r = await runCli(['ls', '-r', `restic/${repo}/`, '--json', '--dir', node.dir]);
  if (r.code !== 0) throw new Error(`ls: ${r.stderr}`);
  const files = (JSON.parse(r.stdout) as { copies?: number; folder?: boolean }[]).filter(
    (e) => !e.folder,
  );
  const out: Record<number, number> = {};
  for (const f of files) out[f.copies ?? 0] = (out[f.copies ?? 0] ?? 0) + 1;
  return out;
}

/** Waits until each node's catalog lists all `files` keys under restic/<repo>/, `want` copies each. */
async function converged(nodes: NodeProc[], repo: string, files: number, want: number, ms: number) {
  let seen: Record<number, number>[] = [];
  try {
    await waitFor(
      `${want} copies of every file`,
      async () => {
        seen = await Promise.all(nodes.map((n) => copies(n, repo)));
        return seen.every((h) => Object.keys(h).length === 1 && h[want] === files);
      },
      ms,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: copies → files per node ${JSON.stringify(seen)}`);
  }
}

test('a replica peer SIGKILLed mid-backup: the backup completes, every byte reads back, the peer catches up', async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-kill');
  const src = join(work, 'src');
  await bigTree(src);
  const env = resticEnv(c, 'peer', work);
  await ok('restic', ['init'], { env });
  const victim = c.nodes[1]!;
  const backup = await backupUntil(c, env, src, 2);
  expect(backup.finished(), 'the backup ended before the node could be killed').toBe(false);
  await victim.kill();
  // The gateway's writes go on with the live holders: restic sees no error at all.
  const r = await backup.done;
  console.log(`backup with a peer killed: exit ${r.code}\n${r.stderr.slice(-1500)}`);
  expect(r.code, r.stderr).toBe(0);
  expect(await snapshots(env)).toHaveLength(1);
  await ok('restic', ['check', '--read-data'], { env });
  await restoreAndDiff(env, src, join(work, 'restored'));

  // The killed node comes back: the mesh closes, its catalog learns every file written while
  // it was down, and each file is held as many times as --replicas asks, in every node's view.
  await victim.start();
  await waitFor('full mesh again', async () => {
    for (const n of c!.nodes) if ((await n.peerCount()) < 2) return false;
    return true;
  });
  const stored = (await repoFiles(c, 'peer')).size + 1; // and the config
  await converged(c.nodes, 'peer', stored, COPIES, 120_000);
  await ok('restic', ['check', '--read-data'], { env });
});

// restic retries a failed save for about a minute (and deletes the file first, which an
// append-only gateway refuses): the node is back within seconds, so the interrupted backup itself
// must complete, in both modes.
test.each([
  { mode: 'read-write', args: [] },
  { mode: 'append-only', args: ['--append-only'] },
])(
  'the gateway node ($mode) SIGKILLed mid-backup and restarted: the backup completes, what restic stored before is kept',
  async ({ args }) => {
    c = await startGatewayCluster(args);
    work = await tempDir('gw-killgw');
    const src = join(work, 'src');
    await bigTree(src);
    const env = resticEnv(c, 'gw', work);
    await ok('restic', ['init'], { env });
    const gw = c.nodes[0]!;
    const backup = await backupUntil(c, env, src, 3);
    const before = await repoFiles(c, 'gw');
    expect(backup.finished(), 'the backup ended before the node could be killed').toBe(false);
    await gw.kill();
    // Back on the same addresses, so restic's retries and the peers find it again.
    const again = new NodeProc(gw.dir, {
      ...gw.opts,
      listen: gw.listenAddr,
      extraArgs: [
        '--s3-listen',
        new URL(c.s3).host,
        '--restic-listen',
        new URL(c.restic).host,
        ...args,
      ],
    });
    await sleep(1000);
    c.nodes[0] = await again.start();
    const r = await backup.done;
    console.log(`backup with the gateway killed: exit ${r.code}\n${r.stderr.slice(-1500)}`);
    expect(r.code, r.stderr).toBe(0);
    const after = await repoFiles(c, 'gw');
    for (const [file, size] of before) {
      expect(after.get(file), file).toBe(size);
    }
    // Every file in the repository, referenced or left over by the kill, is whole: its name is
    // the SHA-256 of what the gateway serves.
    for (const file of after.keys()) {
      expect(await served(c, 'gw', file), file).toBe(file.slice(file.indexOf('/') + 1));
    }
    expect(await snapshots(env)).toHaveLength(1);
    await ok('restic', ['check', '--read-data'], { env });
    await restoreAndDiff(env, src, join(work, 'restored'));
  },
);
