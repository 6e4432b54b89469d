// Scenario 5: a node whose data dir is a small tmpfs. A put larger than the free space fails
// with a clear ERR_NO_SPACE, leaves no partial blob, and the node keeps serving.
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  initNode,
  leftoverTempFiles,
  NodeProc,
  patternSha256,
  patternStream,
  tempDir,
} from './harness.js';
import { record } from './report.js';

let mountPoint = '';
let node: NodeProc | undefined;
let skipReason = '';

beforeAll(async () => {
  mountPoint = await tempDir('tmpfs');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountPoint], {
      stdio: 'pipe',
    });
  } catch (e) {
    skipReason = `cannot mount a tmpfs here (${String(e).split('\n')[0]}); needs root`;
    console.log(`SKIPPED disk-full scenario: ${skipReason}`);
    return;
  }
  await mkdir(`${mountPoint}/node`);
  await initNode(`${mountPoint}/node`);
  node = await new NodeProc(`${mountPoint}/node`).start();
});
afterAll(async () => {
  await node?.stop();
  if (!skipReason) execFileSync('umount', ['-l', mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});

it('fails a put that does not fit with ERR_NO_SPACE and keeps serving', async (ctx) => {
  if (skipReason) {
    ctx.skip(skipReason);
    return;
  }
  const started = Date.now();
  const n = node!;
  const small = await n.put('before', patternStream('before', 1_000_000));
  expect(small.status).toBeLessThan(300);

  const big = await n.put('too-big', patternStream('too-big', 96 * 1024 * 1024));
  expect(big.json).toMatchObject({ code: 'ERR_NO_SPACE' });
  expect(big.status).toBe(507);
  expect(big.json.code).toBe('ERR_NO_SPACE');
  expect((await n.get('too-big')).status).toBe(404);
  const leftovers = await leftoverTempFiles(n.dir);
  expect(leftovers).toEqual([]);

  // Still serving: the old file reads back, and a new small file can be stored.
  expect((await n.get('before')).sha256).toBe(await patternSha256('before', 1_000_000));
  expect((await n.put('after', patternStream('after', 100_000))).status).toBeLessThan(300);
  expect((await n.get('after')).sha256).toBe(await patternSha256('after', 100_000));
  await record({
    scenario: '5 disk full (48 MiB tmpfs)',
    filesPut: 2,
    faultsInjected: 1,
    filesLost: 0,
    peakRssMiB: n.peakRssKiB / 1024,
    durationS: (Date.now() - started) / 1000,
    notes: '96 MiB put refused with 507 ERR_NO_SPACE; no partial blob; node kept serving',
  });
});
