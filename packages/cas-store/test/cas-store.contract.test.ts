import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CasStore, createPathTransform } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';
import { type StoreFixture, storeTests } from './store-tests.js';

async function fixture(pathTransform?: ConstructorParameters<typeof CasStore>[0]['pathTransform']) {
  const parent = await tempDir();
  const root = join(parent, 'root');
  return { parent, root, store: new CasStore({ root, pathTransform }) } satisfies StoreFixture;
}
const teardown = (f: StoreFixture) => removeDir(f.parent);

storeTests({ name: 'sha256, ab/cd/<hash>', setup: () => fixture(), teardown });
storeTests({
  name: 'md5, original CASPathTransformFunc layout',
  setup: () =>
    fixture(
      createPathTransform({ algorithm: 'md5', blockSize: 5, depth: Number.POSITIVE_INFINITY }),
    ),
  teardown,
});
storeTests({
  name: 'md5, flat',
  setup: () => fixture(createPathTransform({ algorithm: 'md5', depth: 0 })),
  teardown,
});

describe('CasStore construction', () => {
  it('rejects a missing root and a transform that would leave the namespace', async () => {
    expect(() => new CasStore({ root: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    const parent = await tempDir();
    try {
      const root = join(parent, 'root');
      await mkdir(root);
      for (const bad of [
        () => ({ pathName: '..', filename: 'x' }),
        () => ({ pathName: 'a', filename: '../x' }),
        () => ({ pathName: 'a//b', filename: 'x' }),
        () => ({ pathName: 'a', filename: 'x.meta' }),
      ]) {
        const store = new CasStore({ root, pathTransform: bad });
        await expect(store.write('a'.repeat(64), 'k', [])).rejects.toEqual(
          expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
        );
      }
    } finally {
      await removeDir(parent);
    }
  });
});
