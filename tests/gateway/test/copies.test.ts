// How many copies `--replicas 2` makes on 3 real nodes, counted on each node's disk and compared
// with what `peerstash ls --json` says: a put writes the writer's copy and 2 replicas, for a CLI put
// and an S3 gateway put alike; repair then settles each file on its 2 placement nodes.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { awsEnv, ok } from '../../../packages/gateway/test/clients.js';
import {
  blobFiles,
  initNode,
  keyFile,
  NodeProc,
  runCli,
  stopCluster,
  tempDir,
  waitFor,
} from '../../cluster/test/harness.js';
import { gatewaysOf } from './cluster.js';

const R = 2;
/** What the test stores, as `ls -r` names it. */
const KEYS = ['.s3/buckets/copies', 'cli/a.bin', 'copies/s3/a.bin'];
let nodes: NodeProc[] = [];
let work: string;

/** Starts node 0 (with the S3 gateway) and two nodes bootstrapping from it, all with --replicas R. */
async function start(dirs: string[], repairInterval: string): Promise<NodeProc[]> {
  const args = ['--repair-interval', repairInterval];
  const first = await new NodeProc(dirs[0]!, {
    replicas: R,
    extraArgs: [...args, '--s3-listen', '127.0.0.1:0'],
  }).start();
  const out = [first];
  for (const dir of dirs.slice(1)) {
    out.push(
      await new NodeProc(dir, {
        replicas: R,
        bootstrap: [first.listenAddr],
        extraArgs: args,
      }).start(),
    );
  }
  await waitFor('full mesh', async () => {
    for (const n of out) if ((await n.peerCount()) < out.length - 1) return false;
    return true;
  });
  return out;
}

/** How many nodes hold a blob of each file id (a blob file is named `<id>.<nonce>.blob`). */
async function onDisk(): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  for (const n of nodes) {
    for (const f of await blobFiles(n.dir)) {
      const id = basename(f).split('.')[0]!;
      held.set(id, (held.get(id) ?? 0) + 1);
    }
  }
  return held;
}

/** `copies` of every file, as `peerstash ls -r --json` run against `node` prints them. */
async function listedCopies(node: NodeProc): Promise<Map<string, number>> {
  const r = await runCli(['ls', '-r', '--json', '--dir', node.dir]);
  expect(r.code, r.stderr).toBe(0);
  const files = JSON.parse(r.stdout) as { key: string; copies: number }[];
  return new Map(files.map((f) => [f.key, f.copies]));
}

/** The disk holds `each` copies of each of `files` files, and ls on every node says so. */
async function expectCopies(files: number, each: number): Promise<void> {
  const disk = await onDisk();
  expect([...disk.values()]).toEqual(Array(files).fill(each));
  for (const node of nodes) {
    const listed = await listedCopies(node);
    expect(listed.size).toBe(files);
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(KEYS.map((k) => [k, each])));
  }
}

beforeAll(async () => {
  work = await tempDir('copies-work');
  const dirs = await Promise.all([0, 1, 2].map((i) => tempDir(`copies-n${i}`)));
  await initNode(dirs[0]!);
  for (const d of dirs.slice(1)) await initNode(d, { join: keyFile(dirs[0]!) });
  // no background repair yet: the copies counted first are the put's own
  nodes = await start(dirs, '0');
});
afterAll(async () => {
  await stopCluster(nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

test('--replicas 2 on 3 nodes: a put makes 3 copies, repair settles them on 2, ls counts them', async () => {
  const src = join(work, 'a.bin');
  await writeFile(src, Buffer.alloc(50_000, 7));
  const put = await runCli(['put', src, '--key', 'cli/a.bin', '--json', '--dir', nodes[0]!.dir]);
  expect(put.code, put.stderr).toBe(0);
  expect(JSON.parse(put.stdout).replicas).toBe(R);

  const keys = await runCli(['s3', 'keys', 'add', '--dir', nodes[0]!.dir, '--json']);
  expect(keys.code, keys.stderr).toBe(0);
  const key = JSON.parse(keys.stdout) as { accessKeyId: string; secretAccessKey: string };
  const { s3 } = await gatewaysOf(nodes[0]!);
  const env = await awsEnv(work, key);
  const ep = ['--endpoint-url', s3!];
  // the bucket is a file too (its marker, .s3/buckets/copies), stored like any other
  await ok('aws', [...ep, 's3', 'mb', 's3://copies'], { env });
  await ok('aws', [...ep, 's3', 'cp', src, 's3://copies/s3/a.bin'], { env });

  // At put time: the writer's copy and R replicas, whichever way the file came in.
  await expectCopies(KEYS.length, R + 1);

  // Restarted with background repair: each file settles on its R placement nodes over all three
  // (the writer included), and the listing follows the disks.
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = await start(
    nodes.map((n) => n.dir),
    '1',
  );
  await waitFor(
    'copies settled',
    async () => [...(await onDisk()).values()].every((n) => n === R),
    90_000,
  );
  await expectCopies(KEYS.length, R);
  for (const [i, n] of nodes.entries()) {
    const back = join(work, `back-${i}`);
    const r = await runCli(['get', 'copies/s3/a.bin', '-o', back, '--dir', n.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(back)).equals(await readFile(src))).toBe(true);
  }
});
