// Attributes given late to store (once the body has been read): sealed into the record, returned
// by info, listPage and read on every node; an attributes callback that throws keeps nothing.

import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, pattern, startCluster, waitFor, walk } from './helpers.js';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe('store attributes', () => {
  it('are asked after the body, kept in the record and returned by info, listPage and read', async () => {
    c = await startCluster(3, { replication: 1 });
    const [a, b] = c.nodes as [NonNullable<Cluster['nodes'][0]>, NonNullable<Cluster['nodes'][0]>];
    let seen = 0;
    async function* counted() {
      for await (const chunk of pattern('attr', 300_000)) {
        seen += chunk.length;
        yield chunk;
      }
    }
    const r = await a.store('b/obj', counted(), {
      attributes: () => ({ etag: `"n${seen}"`, 'content-type': 'text/plain' }),
    });
    expect(r.size).toBe(300_000);
    const want = { etag: '"n300000"', 'content-type': 'text/plain' };
    expect((await a.info('b/obj')).attributes).toEqual(want);
    await waitFor(
      'the record on b',
      async () => (await b.listPage({ prefix: 'b/' })).files.length === 1,
    );
    const page = await b.listPage({ prefix: 'b/' });
    expect(page.files[0]?.attributes).toEqual(want);
    const read = await b.read('b/obj');
    read.stream.resume();
    expect(read.attributes).toEqual(want);
    expect(read.modified).toBe(r.modified);
    // a file stored without attributes has none
    await a.store('b/plain', pattern('p', 10));
    expect((await a.info('b/plain')).attributes).toEqual({});
  });

  it('that throw keep nothing: no record, no blob on any node', async () => {
    c = await startCluster(3, { replication: 2 });
    const a = c.nodes[0]!;
    const before = await Promise.all(c.dirs.map((d) => walk(d)));
    await expect(
      a.store('b/bad', pattern('bad', 500_000), {
        attributes: () => {
          throw Object.assign(new Error('digest mismatch'), { code: 'ERR_TEST_BAD' });
        },
      }),
    ).rejects.toThrow('digest mismatch');
    await expect(a.info('b/bad')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    for (const node of c.nodes) {
      expect((await node.listPage({ prefix: 'b/' })).files).toEqual([]);
    }
    // give the replicas' aborts time to land, then no new blob file exists anywhere
    await new Promise((r) => setTimeout(r, 300));
    const after = await Promise.all(c.dirs.map((d) => walk(d)));
    for (const [i, files] of after.entries()) {
      const blobs = (list: string[]) =>
        list.filter((f) => f.includes('blobs') && !f.includes('tmp'));
      expect(blobs(files)).toEqual(blobs(before[i]!));
    }
  });
});
