import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CasStore } from '../src/index.js';
import { collect, NS, removeDir, sha256, tempDir, walk } from './helpers.js';
import { killMidWrite } from './kill-mid-write.js';

const writer = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));

/** Starts the writer, waits until it is mid-write, then SIGKILLs it after `delayMs`. */
async function killWriter(root: string, mode: 'large' | 'churn', delayMs: number): Promise<void> {
  await killMidWrite(writer, [root, NS, mode], 'writing', delayMs);
}

async function expectConsistent(root: string): Promise<number> {
  const store = new CasStore({ root });
  await store.open();
  const files = await walk(root);
  expect(files.filter((p) => p.endsWith('.tmp'))).toEqual([]);
  // Exactly one blob per meta: no orphans survive open().
  expect(files.filter((p) => p.endsWith('.blob')).length).toBe(
    files.filter((p) => p.endsWith('.meta.json')).length,
  );
  let complete = 0;
  for await (const meta of store.list(NS)) {
    const { stream } = await store.read(NS, meta.key);
    const bytes = await collect(stream);
    expect(bytes.length).toBe(meta.size);
    expect(sha256(bytes)).toBe(meta.digest);
    complete++;
  }
  return complete;
}

describe('crash safety (SIGKILL of a real writer process)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cas-crash-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('a large write killed midway leaves the key absent and no temp files', async () => {
    const root = join(dir, 'root');
    await killWriter(root, 'large', 300);
    const before = await walk(root);
    expect(before.some((p) => p.endsWith('.tmp'))).toBe(true); // the kill really hit mid-write
    await expectConsistent(root);
    const store = new CasStore({ root });
    expect(await store.has(NS, 'big')).toBe(false);
  });

  it('a large overwrite killed midway keeps the old version', async () => {
    const root = join(dir, 'root');
    const store = new CasStore({ root });
    await store.open();
    await store.write(NS, 'big', [Buffer.from('old version')]);
    await killWriter(root, 'large', 200);
    await expectConsistent(root);
    expect((await collect((await store.read(NS, 'big')).stream)).toString()).toBe('old version');
  });

  it('writes, overwrites and deletes killed at varied moments leave only complete pairs', async () => {
    const root = join(dir, 'root');
    for (const delay of [5, 40, 90, 150]) {
      await killWriter(root, 'churn', delay);
      await expectConsistent(root);
    }
    expect(await expectConsistent(root)).toBeGreaterThan(0);
  });
});
