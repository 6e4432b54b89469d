import { describe, expect, it } from 'vitest';
import { FileServerError } from '../errors.js';
import { type FailoverHooks, failover } from './failover.js';
import type { PlainSource } from './plain-source.js';

const TEXT = Buffer.from('the quick brown fox jumps over the lazy dog, twice over and again');

/** A test double of one copy: `TEXT` in chunks of `size`, failing with `code` after `failAfter` chunks. */
function source(
  name: string,
  opts: { size: number; failAfter?: number; code?: string; origin?: 'local' | 'peer' },
): PlainSource & { closed: boolean; finished: boolean; undone: boolean } {
  const chunks: Buffer[] = [];
  for (let i = 0; i < TEXT.length; i += opts.size) chunks.push(TEXT.subarray(i, i + opts.size));
  let i = 1;
  let undo: () => void = () => {};
  const s = {
    closed: false,
    finished: false,
    undone: false,
    first: chunks[0] ?? null,
    size: TEXT.length,
    digest: 'd'.repeat(64),
    origin: opts.origin ?? 'peer',
    peerId: name,
    it: {
      async next(): Promise<IteratorResult<Buffer>> {
        if (opts.failAfter !== undefined && i >= opts.failAfter) {
          throw new FileServerError(opts.code ?? 'ERR_TIMEOUT', `${name} broke`);
        }
        const c = chunks[i++];
        return c ? { done: false, value: c } : { done: true, value: undefined };
      },
    },
    async finish() {
      s.finished = true;
    },
    close() {
      s.closed = true;
      // an abandoned fetch discards its partial local write a moment later
      setTimeout(() => {
        s.undone = true;
        undo();
      }, 20);
    },
    settled: undefined as unknown as Promise<unknown>,
  };
  s.settled = new Promise<void>((resolve) => {
    undo = resolve;
  });
  return s;
}

function hooks(queue: PlainSource[], log: string[] = []): FailoverHooks & { asked: boolean[] } {
  const asked: boolean[] = [];
  return {
    asked,
    async next(_digest, corrupt) {
      asked.push(corrupt);
      const s = queue.shift();
      if (!s) throw new FileServerError(corrupt ? 'ERR_INTEGRITY' : 'ERR_NOT_FOUND', 'none left');
      return s;
    },
    broken(src, err) {
      log.push(`${src.peerId}:${(err as FileServerError).code}`);
    },
    mayContinue: () => true,
  };
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

describe('read fail-over', () => {
  it('continues from the next copy at the same byte, each byte once', async () => {
    const a = source('a', { size: 7, failAfter: 3 });
    const b = source('b', { size: 5, failAfter: 8, code: 'ERR_INTEGRITY' });
    const c = source('c', { size: 3 });
    const log: string[] = [];
    const h = hooks([b, c], log);
    const out = await collect(failover(a, false, h));
    expect(out.equals(TEXT)).toBe(true);
    expect(log).toEqual(['a:ERR_TIMEOUT', 'b:ERR_INTEGRITY']);
    // the second ask knows a copy was rotten
    expect(h.asked).toEqual([false, true]);
    expect(a.closed && b.closed && c.closed).toBe(true);
    // the end is seen only once the abandoned copies' side work is undone
    expect(a.undone && b.undone).toBe(true);
    expect(c.finished).toBe(true);
  });

  it('a rotten local copy fails over; any other local failure is the caller’s', async () => {
    const local = source('local', {
      size: 4,
      failAfter: 2,
      code: 'ERR_INTEGRITY',
      origin: 'local',
    });
    expect(
      (await collect(failover(local, false, hooks([source('p', { size: 9 })])))).equals(TEXT),
    ).toBe(true);
    const broken = source('local', {
      size: 4,
      failAfter: 2,
      code: 'ERR_NO_SPACE',
      origin: 'local',
    });
    const h = hooks([source('p', { size: 9 })]);
    await expect(collect(failover(broken, false, h))).rejects.toMatchObject({
      code: 'ERR_NO_SPACE',
    });
    expect(h.asked).toEqual([]);
  });

  it('with nobody to continue, the failure that broke the transfer is reported', async () => {
    const a = source('a', { size: 6, failAfter: 2, code: 'ERR_STREAM_RESET' });
    await expect(collect(failover(a, false, hooks([])))).rejects.toMatchObject({
      code: 'ERR_STREAM_RESET',
    });
    // after a rotten chunk with no sound copy left, the answer is ERR_INTEGRITY
    const r = source('r', { size: 6, failAfter: 2, code: 'ERR_INTEGRITY' });
    await expect(collect(failover(r, false, hooks([])))).rejects.toMatchObject({
      code: 'ERR_INTEGRITY',
    });
  });

  it('a local copy found rotten before the read counts as corrupt from the start', async () => {
    const a = source('a', { size: 6, failAfter: 2 });
    const h = hooks([]);
    await expect(collect(failover(a, true, h))).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    expect(h.asked).toEqual([true]);
  });

  it('stops at the first failure once it may not continue (node stopping, caller gone)', async () => {
    const a = source('a', { size: 6, failAfter: 2 });
    const h = { ...hooks([source('b', { size: 6 })]), mayContinue: () => false };
    await expect(collect(failover(a, false, h))).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(h.asked).toEqual([]);
    expect(a.closed).toBe(true);
  });

  it('a reader that stops early closes the copy it was reading', async () => {
    const a = source('a', { size: 4 });
    for await (const _ of failover(a, false, hooks([]))) break;
    expect(a.closed).toBe(true);
    expect(a.finished).toBe(false);
  });
});
