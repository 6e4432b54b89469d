// Listing pages over a sorted key set, and the merge of two pages (the cluster's and the part
// spool's) into one with the Backend's cursor rules: ascending, no item twice, `next` = last item.

import type { ListOptions, ListPage, ObjectInfo } from '@peerstash/gateway';

export const compareKeys = (a: string, b: string) =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** One page of `sorted` (ascending by UTF-8 bytes), as the Backend contract lists. */
export function pageOf(
  sorted: string[],
  info: (key: string) => ObjectInfo,
  { prefix, delimiter, after, limit }: Omit<ListOptions, 'signal'>,
): ListPage {
  const entries: ObjectInfo[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let count = 0;
  for (const key of sorted) {
    if (!key.startsWith(prefix)) continue;
    if (after !== undefined && compareKeys(key, after) <= 0) continue;
    let rolled: string | undefined;
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) rolled = key.slice(0, at + delimiter.length);
    }
    if (rolled !== undefined && (rolled === last || rolled === after)) continue;
    if (count === limit) return { entries, prefixes, next: last! };
    if (rolled !== undefined) {
      prefixes.push(rolled);
      last = rolled;
    } else {
      entries.push(info(key));
      last = key;
    }
    count++;
  }
  return { entries, prefixes };
}

type Item = { key: string; entry?: ObjectInfo };

function itemsOf(page: ListPage): Item[] {
  return [
    ...page.entries.map((entry) => ({ key: entry.key, entry })),
    ...page.prefixes.map((key) => ({ key })),
  ].sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Two pages of disjoint key sets asked with the same options, as one page of at most `limit`
 * items. A common prefix both report counts once. When either had more, or the merge overflows,
 * `next` is the last item kept: both sources resume strictly after it.
 */
export function mergePages(a: ListPage, b: ListPage, limit: number): ListPage {
  const all = [...itemsOf(a), ...itemsOf(b)].sort((x, y) => compareKeys(x.key, y.key));
  const kept: Item[] = [];
  for (const item of all) {
    if (kept.at(-1)?.key === item.key) continue;
    kept.push(item);
  }
  const page = kept.slice(0, limit);
  const out: ListPage = {
    entries: page.flatMap((i) => (i.entry ? [i.entry] : [])),
    prefixes: page.flatMap((i) => (i.entry ? [] : [i.key])),
  };
  if (a.next !== undefined || b.next !== undefined || kept.length > limit) {
    out.next = page.at(-1)!.key;
  }
  return out;
}
