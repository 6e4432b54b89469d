import { describe, expect, it } from 'vitest';
import { ListMerge, readListBody } from './cluster-list.js';
import type { ListLine } from './messages.js';

const line = (id: string, digest: string, putAt: number, name = 'bmFtZQ=='): ListLine => ({
  id: id.repeat(64).slice(0, 64),
  size: 100,
  digest: digest.repeat(64).slice(0, 64),
  createdAt: putAt,
  extra: { name, putAt },
});

async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function all(body: AsyncIterable<Buffer>): Promise<ListLine[]> {
  const out: ListLine[] = [];
  for await (const l of readListBody(body)) out.push(l);
  return out;
}

describe('list bodies', () => {
  it('reads lines split anywhere, multi-byte characters included', async () => {
    const lines = [line('a', '1', 5, 'ünïcødé-名前'), line('b', '2', 6), line('c', '3', 7)];
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    for (const size of [1, 3, 7, 64, 4096]) {
      expect(await all(chunks(`${text}\n`, size))).toEqual(lines);
      expect(await all(chunks(text, size))).toEqual(lines); // no final newline
    }
  });

  it('refuses malformed and overlong lines with ERR_PROTOCOL', async () => {
    await expect(all(chunks('{"id":"zz"}\n', 5))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(all(chunks('not json\n', 5))).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    await expect(all(chunks('x'.repeat(200_000), 4096))).rejects.toMatchObject({
      code: 'ERR_PROTOCOL',
    });
  });
});

describe('ListMerge', () => {
  it('keeps the newest version and counts the nodes holding exactly it', () => {
    const m = new ListMerge();
    m.add(line('a', '1', 10), 'n1'); // an old version on one node
    m.add(line('a', '2', 20), 'n2'); // the newest on three
    m.add(line('a', '2', 20), 'n3');
    m.add(line('a', '1', 10), 'n4');
    m.add(line('a', '2', 20), 'n5');
    m.add(line('a', '2', 20), 'n5'); // a node repeating itself counts once
    m.add(line('b', '3', 5), 'n1');
    const got = [...m.values()].map((v) => [v.line.id[0], v.line.digest[0], v.copies]);
    expect(got).toEqual([
      ['a', '2', 3],
      ['b', '3', 1],
    ]);
  });
});
