import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../test/helpers.js';
import { KeyStore, staticCredentials } from './keys.js';

describe('KeyStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('gateway-keys-');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('adds keys to a 0600 file, lists them without secrets, revokes them', async () => {
    const path = join(dir, 'data', 's3-keys.json');
    const store = new KeyStore(path);
    expect(await store.list()).toEqual([]);
    const a = await store.add({ description: 'laptop' });
    const b = await store.add({ bucket: 'photos', readOnly: true });
    expect(a.accessKeyId).toMatch(/^PS[A-Z2-7]{18}$/);
    expect(a.secretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const listed = await store.list();
    expect(listed).toEqual([
      {
        accessKeyId: a.accessKeyId,
        readOnly: false,
        createdAt: a.createdAt,
        description: 'laptop',
      },
      { accessKeyId: b.accessKeyId, readOnly: true, createdAt: b.createdAt, bucket: 'photos' },
    ]);
    expect(JSON.stringify(listed)).not.toContain(a.secretAccessKey);
    expect(await store.lookup(b.accessKeyId)).toMatchObject({
      bucket: 'photos',
      readOnly: true,
      secretAccessKey: b.secretAccessKey,
    });
    await store.revoke(a.accessKeyId);
    expect(await store.lookup(a.accessKeyId)).toBeUndefined();
    await expect(store.revoke(a.accessKeyId)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('a second store on the same file (another process) sees changes at once', async () => {
    const path = join(dir, 'keys.json');
    const server = new KeyStore(path);
    const cli = new KeyStore(path);
    expect(await server.lookup('PSX')).toBeUndefined();
    const k = await cli.add();
    expect((await server.lookup(k.accessKeyId))?.secretAccessKey).toBe(k.secretAccessKey);
    await cli.revoke(k.accessKeyId);
    expect(await server.lookup(k.accessKeyId)).toBeUndefined();
  });

  it('concurrent adds are all kept (the lock serialises writers)', async () => {
    const path = join(dir, 'keys.json');
    const stores = Array.from({ length: 5 }, () => new KeyStore(path));
    const added = await Promise.all(stores.map((s) => s.add()));
    const ids = (await new KeyStore(path).list()).map((k) => k.accessKeyId).sort();
    expect(ids).toEqual(added.map((k) => k.accessKeyId).sort());
  });

  it('refuses bad bucket names and a file that is not a key file', async () => {
    const path = join(dir, 'keys.json');
    await expect(new KeyStore(path).add({ bucket: 'No_Such' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await writeFile(path, '{"version": 2}');
    await expect(new KeyStore(path).lookup('x')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await writeFile(path, 'not json');
    await expect(new KeyStore(path).list()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(await readFile(path, 'utf8')).toBe('not json');
  });

  it('static credentials for embedding', async () => {
    const creds = staticCredentials([{ accessKeyId: 'id', secretAccessKey: 's' }]);
    expect(await creds.lookup('id')).toMatchObject({ secretAccessKey: 's', readOnly: false });
    expect(await creds.lookup('other')).toBeUndefined();
  });
});
