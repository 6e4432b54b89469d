import { describe, expect, it } from 'vitest';
import { RateMeter } from './rate-meter.js';

const MiB = 1024 * 1024;

describe('RateMeter', () => {
  it('measures from the first byte: a slow answer before it does not double the ETA', () => {
    const m = new RateMeter();
    m.update(0, 0);
    // the body starts 2 s after the request, then moves 10 MiB/s for 100 MiB
    for (let t = 2000; t <= 4000; t += 10) m.update(((t - 2000) / 1000) * 10 * MiB, t);
    expect(m.rate()).toBeCloseTo(10 * MiB, -3);
    expect(m.eta(100 * MiB)).toBe(8);
  });

  it('bursts and stalls of a fraction of a second do not swing the estimate', () => {
    const m = new RateMeter();
    let bytes = 0;
    const etas: number[] = [];
    // 64 KiB chunks: 80 ms of bursts at 100 MiB/s, then 120 ms waiting for the disk (40 MiB/s overall)
    for (let t = 0; t <= 20_000; t += 1) {
      if (t % 200 < 80 && t % 2 === 0) bytes += 0.2 * MiB;
      m.update(bytes, t);
      if (t >= 2000 && t % 50 === 0) etas.push(m.eta(1000 * MiB)!);
    }
    const real = (1000 * MiB - bytes) / (40 * MiB);
    expect(Math.max(...etas.slice(-10))).toBeLessThanOrEqual(Math.ceil(real * 1.05) + 1);
    expect(Math.min(...etas.slice(-10))).toBeGreaterThanOrEqual(Math.floor(real * 0.95));
    // over the whole run the estimate stays within 10% of the time that really remained
    for (let i = 0; i < etas.length; i += 40) {
      const t = 2000 + i * 50;
      const left = (1000 * MiB - 40 * MiB * (t / 1000)) / (40 * MiB);
      expect(Math.abs(etas[i]! - left) / left).toBeLessThan(0.1);
    }
  });

  it('says nothing during warm-up, nor without a total; follows a lasting change of speed', () => {
    const m = new RateMeter({ windowMs: 2000 });
    m.update(MiB, 0);
    m.update(2 * MiB, 500);
    expect(m.rate()).toBeUndefined();
    expect(m.eta(10 * MiB)).toBeUndefined();
    m.update(3 * MiB, 1000);
    expect(m.eta(undefined)).toBeUndefined();
    // 2 MiB/s, then 8 MiB/s: after one window only the new speed counts
    let b = 3 * MiB;
    for (let t = 1100; t <= 6000; t += 100) {
      b += (t <= 3000 ? 2 : 8) * MiB * 0.1;
      m.update(b, t);
    }
    expect(m.rate()! / MiB).toBeCloseTo(8, 0);
  });
});
