import type { ListPage } from '@peerstash/gateway';
import { describe, expect, it } from 'vitest';
import { compareKeys, mergePages, pageOf } from './key-page.js';

const info = (key: string) => ({ key, size: 0, modifiedAt: 0, version: key, attributes: {} });
const sorted = (keys: string[]) => [...keys].sort(compareKeys);
const items = (p: ListPage) => sorted([...p.entries.map((e) => e.key), ...p.prefixes]);

function walk(list: (after: string | undefined) => ListPage): string[] {
  const out: string[] = [];
  let after: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = list(after);
    out.push(...items(page));
    if (page.next === undefined) return out;
    after = page.next;
  }
  throw new Error('did not end');
}

describe('mergePages', () => {
  // the cluster's keys and the spool's: disjoint, sharing the '.s3/' folder
  const a = sorted(['', '.s3/buckets/b', '.s3/uploads/x/1', 'b/a', 'b/é', 'z'].filter(Boolean));
  const b = sorted(['.s3/parts/u/00001', '.s3/parts/u/00002', '.s3/parts/v/00001']);
  const all = sorted([...a, ...b]);

  for (const delimiter of [undefined, '/']) {
    for (const prefix of ['', '.s3/', '.s3/p']) {
      it(`pages the union exactly (prefix '${prefix}', delimiter ${delimiter ?? 'none'})`, () => {
        const o = { prefix, ...(delimiter ? { delimiter } : {}) };
        const want = walk((after) =>
          pageOf(all, info, { ...o, limit: 1000, ...(after ? { after } : {}) }),
        );
        for (let limit = 1; limit <= 10; limit++) {
          const got = walk((after) => {
            const q = { ...o, limit, ...(after !== undefined ? { after } : {}) };
            const page = mergePages(pageOf(a, info, q), pageOf(b, info, q), limit);
            expect(items(page).length).toBeLessThanOrEqual(limit);
            return page;
          });
          expect(got).toEqual(want);
        }
      });
    }
  }
});
