import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ClosedError } from './errors.js';
import { bothDone, Fanout, Meter, watchStarved } from './streams.js';

const bytes = (n: number, seed = 1) => Buffer.alloc(n, seed);
const collect = () => {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      parts.push(c);
      cb();
    },
  });
  return { w, all: () => Buffer.concat(parts) };
};

describe('Meter', () => {
  it('counts bytes and passes them through', async () => {
    let seen = 0;
    const m = new Meter({ onBytes: (n) => (seen += n) });
    const out = collect();
    await pipeline(Readable.from([bytes(10), bytes(20)]), m, out.w);
    expect(m.bytes).toBe(30);
    expect(seen).toBe(30);
    expect(out.all().length).toBe(30);
  });

  it('fails a silent transfer with ERR_TIMEOUT', async () => {
    const m = new Meter({ idleMs: 50 });
    const src = new PassThrough();
    src.write(bytes(5));
    await expect(pipeline(src, m, collect().w)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });
});

describe('Fanout', () => {
  it('writes every chunk to the primary and all secondaries', async () => {
    const [p, a, b] = [collect(), collect(), collect()];
    const chunks = Array.from({ length: 50 }, (_, i) => bytes(10_000, i));
    await pipeline(Readable.from(chunks), new Fanout(p.w, [a.w, b.w], () => {}));
    for (const x of [p, a, b]) expect(x.all().equals(Buffer.concat(chunks))).toBe(true);
  });

  it('drops a failing secondary and carries on', async () => {
    const [p, good] = [collect(), collect()];
    let n = 0;
    const bad = new Writable({
      write(_c, _e, cb) {
        cb(++n === 3 ? new Error('peer gone') : null);
      },
    });
    const dropped: Error[] = [];
    const chunks = Array.from({ length: 20 }, (_, i) => bytes(1000, i));
    await pipeline(
      Readable.from(chunks),
      new Fanout(p.w, [bad, good.w], (_w, e) => dropped.push(e)),
    );
    expect(dropped).toHaveLength(1);
    expect(p.all().length).toBe(20_000);
    expect(good.all().length).toBe(20_000);
  });

  it('fails when the primary fails', async () => {
    const primary = new Writable({
      write(_c, _e, cb) {
        cb(new Error('disk full'));
      },
    });
    const f = new Fanout(primary, [collect().w], () => {});
    await expect(pipeline(Readable.from([bytes(10), bytes(10)]), f)).rejects.toThrow('disk full');
  });
});

describe('toReadable', () => {
  it('takes streams, iterables and buffers, and refuses anything else', async () => {
    const { toReadable } = await import('./streams.js');
    const read = async (r: Readable) => Buffer.concat(await r.toArray()).toString();
    expect(await read(toReadable(Buffer.from('ab')))).toBe('ab');
    expect(await read(toReadable([Buffer.from('a'), Buffer.from('b')]))).toBe('ab');
    expect(await read(toReadable(Readable.from([Buffer.from('x')])))).toBe('x');
    async function* gen() {
      yield Buffer.from('g');
    }
    expect(await read(toReadable(gen()))).toBe('g');
    for (const bad of [null, 42, {}, 'text']) {
      expect(() => toReadable(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('Rechunk', () => {
  it('batches small chunks into pieces of about the given size, losing nothing', async () => {
    const { Rechunk } = await import('./streams.js');
    const chunks = Array.from({ length: 100 }, (_, i) => bytes(1000, i));
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      new Rechunk(4096),
      new Writable({
        write(c, _e, cb) {
          sizes.push(c.length);
          parts.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(parts).equals(Buffer.concat(chunks))).toBe(true);
    expect(sizes.slice(0, -1).every((n) => n >= 4096 && n < 5096)).toBe(true);
    expect(sizes.length).toBeLessThan(30);
  });
});

describe('bothDone', () => {
  const never = new Promise<never>(() => {});
  const coded = (code: string) => Object.assign(new Error(code), { code });

  it('gives the write result once the feeding side is done too', async () => {
    await expect(bothDone(Promise.resolve(7), Promise.resolve())).resolves.toBe(7);
    await expect(
      bothDone(Promise.resolve(7), Promise.reject(coded('ERR_TIMEOUT'))),
    ).rejects.toThrow('ERR_TIMEOUT');
  });

  it('a write failing with a code is final at once, even when the source has stalled', async () => {
    await expect(bothDone(Promise.reject(new ClosedError()), never)).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    });
  });

  it('an uncoded write failure gives way to the feeding side coded cause', async () => {
    await expect(
      bothDone(Promise.reject(new Error('premature close')), Promise.reject(coded('ERR_ABORTED'))),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(
      bothDone(Promise.reject(new Error('premature close')), Promise.reject(new Error('other'))),
    ).rejects.toThrow('premature close');
  });
});

describe('watchStarved', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('gives up on a source that sends nothing while the reader waits', async () => {
    const source = new PassThrough();
    const meter = new Meter();
    watchStarved(source, meter, 200, 'test fetch');
    const got: Buffer[] = [];
    const done = pipeline(
      source,
      meter,
      new Writable({
        write(c, _e, cb) {
          got.push(c);
          cb();
        },
      }),
    );
    source.write(bytes(1000));
    await expect(done).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(Buffer.concat(got).length).toBe(1000);
  });

  it('leaves alone a source whose reader is slow, and one that ends', async () => {
    const source = new PassThrough();
    const meter = new Meter();
    watchStarved(source, meter, 100, 'test fetch');
    source.pipe(meter);
    // plenty buffered and nobody reading for many periods: the reader is slow, the peer is not
    source.write(bytes(256 * 1024));
    await wait(600);
    expect(source.destroyed).toBe(false);
    source.end();
    const parts: Buffer[] = [];
    for await (const c of meter) parts.push(c as Buffer);
    expect(Buffer.concat(parts).length).toBe(256 * 1024);
    await wait(300);
    expect(source.destroyed).toBe(true); // ended normally (autoDestroy), not by the watch
    expect(source.errored).toBeNull();
  });
});
