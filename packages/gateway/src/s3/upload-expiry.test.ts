import { describe, expect, it } from 'vitest';
import { UploadExpiry } from './upload-expiry.js';

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('UploadExpiry', () => {
  it('removes each upload once, two at a time, and none whose Complete is running', async () => {
    const expiry = new UploadExpiry();
    let running = 0;
    let most = 0;
    const ran: string[] = [];
    const job = (id: string) => async () => {
      most = Math.max(most, ++running);
      ran.push(id);
      await tick();
      running--;
    };
    const done = expiry.completing('busy');
    for (const id of ['a', 'b', 'c', 'a', 'b', 'busy', 'd']) expiry.remove(id, job(id));
    expect(expiry.pending).toBe(4);
    while (expiry.pending > 0) await tick();
    expect(ran.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(most).toBe(2);
    // once its Complete has ended (and failed, say), the upload is removed when found again
    done();
    expiry.remove('busy', job('busy'));
    while (expiry.pending > 0) await tick();
    expect(ran).toContain('busy');
  });

  it('skips a queued removal when a Complete of it began meanwhile, and survives a failing one', async () => {
    const expiry = new UploadExpiry();
    const ran: string[] = [];
    const slow = (id: string) => async () => {
      ran.push(id);
      await tick();
    };
    expiry.remove('x', slow('x'));
    expiry.remove('y', async () => {
      ran.push('y');
      throw new Error('backend down');
    });
    expiry.remove('z', slow('z'));
    const done = expiry.completing('z');
    while (expiry.pending > 0) await tick();
    done();
    expect(ran).toEqual(['x', 'y']);
  });
});
