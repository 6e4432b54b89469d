// What restic writes through the gateway is plain catalog files: another node's `peerstash ls -r`
// lists them under restic/<repo>/ (docs/DESIGN.md, the gateway's mapping onto the catalog) and
// `peerstash get` returns the very bytes the REST backend serves.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ok } from '../../../packages/gateway/test/clients.js';
import { runCli, stopCluster, tempDir } from '../../cluster/test/harness.js';
import { type GatewayCluster, startGatewayCluster } from './cluster.js';
import { nodeModulesTree, resticEnv } from './trees.js';

let c: GatewayCluster;
let work: string;

beforeAll(async () => {
  c = await startGatewayCluster();
  work = await tempDir('gw-rcat');
});
afterAll(async () => {
  if (c) await stopCluster(c.nodes);
  if (work) await rm(work, { recursive: true, force: true });
});

const TYPES = ['data', 'index', 'keys', 'snapshots'] as const;

function auth(): Record<string, string> {
  const basic = Buffer.from(`${c.key.accessKeyId}:${c.key.secretAccessKey}`).toString('base64');
  return { authorization: `Basic ${basic}` };
}

/** restic's own view: a v2 listing of one type of the repository. */
async function restList(repo: string, type: string): Promise<{ name: string; size: number }[]> {
  const res = await fetch(new URL(`${repo}/${type}/`, c.restic), {
    headers: { ...auth(), accept: 'application/vnd.x.restic.rest.v2' },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { name: string; size: number }[];
}

async function restSha256(path: string): Promise<string> {
  const res = await fetch(new URL(path, c.restic), { headers: auth() });
  expect(res.status).toBe(200);
  const h = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
  return h.digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

interface LsJson {
  key: string;
  size?: number;
  folder?: boolean;
}

test('restic files are catalog files under restic/<repo>/, read byte for byte by another node', async () => {
  const src = join(work, 'src');
  await nodeModulesTree(src, { maxFiles: 400 });
  const repo = 'backups/laptop';
  const env = resticEnv(c, 'laptop', work);
  env.RESTIC_REPOSITORY = env.RESTIC_REPOSITORY!.replace('/laptop/', `/${repo}/`);
  await ok('restic', ['init'], { env });
  await ok('restic', ['backup', '--host', 'h', src], { env });

  // The CLI of a node that never served the gateway lists the repository's files.
  const other = c.nodes[1]!;
  const ls = await runCli(['ls', '-r', `restic/${repo}/`, '--json', '--dir', other.dir]);
  expect(ls.stderr).toBe('');
  expect(ls.code).toBe(0);
  const listed = (JSON.parse(ls.stdout) as LsJson[]).filter((e) => !e.folder);
  const byKey = new Map(listed.map((e) => [e.key, e.size]));
  expect(byKey.get(`restic/${repo}/config`)).toBeGreaterThan(0);

  // Exactly restic's files: config plus every file of every type, same names, same sizes.
  const expected = new Map<string, number>();
  const configHead = await fetch(new URL(`${repo}/config`, c.restic), {
    method: 'HEAD',
    headers: auth(),
  });
  expected.set(`restic/${repo}/config`, Number(configHead.headers.get('content-length')));
  for (const type of TYPES) {
    const files = await restList(repo, type);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expected.set(`restic/${repo}/${type}/${f.name}`, f.size);
  }
  expect(new Map([...byKey].sort())).toEqual(new Map([...expected].sort()));

  // `peerstash get` on a third node returns what restic's REST GET returns, byte for byte.
  const got = join(work, 'got');
  await mkdir(got, { recursive: true });
  let i = 0;
  for (const key of expected.keys()) {
    const out = join(got, String(i++));
    const r = await runCli(['get', key, '-o', out, '--dir', c.nodes[2]!.dir]);
    expect(r.code, r.stderr).toBe(0);
    const viaRest = await restSha256(key.slice('restic/'.length));
    const viaCli = await fileSha256(out);
    expect(viaCli).toBe(viaRest);
    // restic names every file but config by the SHA-256 of its bytes: a third check.
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name !== 'config') expect(viaCli).toBe(name);
  }
  expect(i).toBe(expected.size);
});
