import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Throttle, TokenBucket } from './rate-limit.js';

describe('TokenBucket', () => {
  it('holds a stream to its rate once the burst is spent', async () => {
    // 4 MiB at 8 MiB/s with a 1 MiB burst: at least ~(4 - 1) / 8 s = 375 ms
    const bucket = new TokenBucket(8 * 1024 * 1024, 1024 * 1024);
    const pieces = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024));
    let got = 0;
    const started = performance.now();
    await pipeline(
      Readable.from(pieces),
      new Throttle(bucket),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          got += chunk.length;
          cb();
        },
      }),
    );
    expect(got).toBe(4 * 1024 * 1024);
    expect(performance.now() - started).toBeGreaterThanOrEqual(330);
  });

  it('without a rate never waits', async () => {
    const bucket = new TokenBucket(0);
    expect(bucket.rate).toBe(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 1000; i++) await bucket.take(1024 * 1024 * 1024);
  });
});
