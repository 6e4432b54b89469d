import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KEYS_FILE,
  loadOrCreateNode,
  loadOrCreateToken,
  readApiInfo,
  readKeyFile,
  removeApiInfo,
  resolveKeys,
  saveNode,
  TOKEN_FILE,
  writeApiInfo,
  writeKeyFile,
} from './data-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'peerstash-datadir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('data dir', () => {
  it('creates a node id once and keeps it', async () => {
    const a = await loadOrCreateNode(dir);
    expect(a.nodeId).toMatch(/^[0-9a-f]{64}$/);
    await saveNode(dir, { ...a, listen: '127.0.0.1:4000' });
    const b = await loadOrCreateNode(dir);
    expect(b).toEqual({ nodeId: a.nodeId, listen: '127.0.0.1:4000' });
  });

  it('rejects a corrupt node.json with a typed error', async () => {
    await writeFile(join(dir, 'node.json'), '{ nope');
    await expect(loadOrCreateNode(dir)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('saves given keys with mode 0600 and loads them back', async () => {
    const vaultKey = randomBytes(32);
    const clusterSecret = randomBytes(32);
    const keys = await resolveKeys(dir, { vaultKey, clusterSecret });
    expect(keys.vaultKey?.equals(vaultKey)).toBe(true);
    expect((await stat(join(dir, KEYS_FILE))).mode & 0o777).toBe(0o600);
    const again = await resolveKeys(dir, {});
    expect(again.vaultKey?.equals(vaultKey)).toBe(true);
    expect(again.clusterSecret?.equals(clusterSecret)).toBe(true);
  });

  it('refuses a vault key that differs from the saved one', async () => {
    await resolveKeys(dir, { vaultKey: randomBytes(32) });
    await expect(resolveKeys(dir, { vaultKey: randomBytes(32) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('rejects keys of the wrong size', async () => {
    await expect(resolveKeys(dir, { vaultKey: randomBytes(16) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await writeFile(join(dir, KEYS_FILE), JSON.stringify({ vaultKey: 'AAAA' }));
    await expect(readKeyFile(join(dir, KEYS_FILE))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('a storage-only key file holds the cluster secret alone', async () => {
    const path = join(dir, 'storage.json');
    const clusterSecret = randomBytes(32);
    await writeKeyFile(path, { clusterSecret });
    const keys = await readKeyFile(path);
    expect(keys.vaultKey).toBeUndefined();
    expect(keys.clusterSecret?.equals(clusterSecret)).toBe(true);
  });

  it('creates the API token once, mode 0600', async () => {
    const t1 = await loadOrCreateToken(dir);
    const t2 = await loadOrCreateToken(dir);
    expect(t1).toBe(t2);
    expect(t1.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(dir, TOKEN_FILE))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dir, TOKEN_FILE), 'utf8')).trim()).toBe(t1);
  });

  it('api.json tells a client where the node listens', async () => {
    expect(await readApiInfo(dir)).toBeUndefined();
    const token = await loadOrCreateToken(dir);
    const info = {
      url: 'http://127.0.0.1:1234',
      host: '127.0.0.1',
      port: 1234,
      pid: 1,
      nodeId: 'x',
    };
    await writeApiInfo(dir, info);
    expect(await readApiInfo(dir)).toEqual({ ...info, token });
    await removeApiInfo(dir);
    expect(await readApiInfo(dir)).toBeUndefined();
  });
});
