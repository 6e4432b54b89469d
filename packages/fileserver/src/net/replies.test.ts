import { describe, expect, it } from 'vitest';
import { Replies } from './replies.js';

const msg = {
  kind: 'message' as const,
  msg: { type: 'delete-ack' as const, reqId: 'r', deleted: true },
};

describe('Replies', () => {
  it('delivers an answer only to the peer and request it belongs to', async () => {
    const r = new Replies();
    const w = r.wait('peer-a', 'r');
    expect(r.settle('peer-b', 'r', msg)).toBe(false);
    expect(r.settle('peer-a', 'r', msg)).toBe(true);
    await expect(w.promise).resolves.toEqual(msg);
    expect(r.settle('peer-a', 'r', msg)).toBe(false);
    expect(r.size).toBe(0);
  });

  it('a peer cannot displace another peer’s waiter with the same request id', async () => {
    const r = new Replies();
    const mine = r.wait('me', 'same');
    const theirs = r.wait('them', 'same');
    r.settle('them', 'same', msg);
    await expect(theirs.promise).resolves.toEqual(msg);
    expect(r.settle('me', 'same', msg)).toBe(true);
    await expect(mine.promise).resolves.toEqual(msg);
  });

  it('times out once armed, and not before', async () => {
    const r = new Replies();
    const w = r.wait('p', 'slow');
    await new Promise((res) => setTimeout(res, 30));
    expect(r.size).toBe(1);
    w.arm(10);
    await expect(w.promise).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(r.size).toBe(0);
  });

  it('fails on abort, on peer loss and on shutdown; cancel forgets quietly', async () => {
    const r = new Replies();
    const ac = new AbortController();
    const a = r.wait('p', '1', ac.signal);
    ac.abort();
    await expect(a.promise).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const b = r.wait('p', '2');
    const c = r.wait('q', '3');
    r.failPeer('p', Object.assign(new Error('gone'), { code: 'ERR_NOT_CONNECTED' }));
    await expect(b.promise).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
    expect(r.size).toBe(1);
    r.failAll(Object.assign(new Error('closed'), { code: 'ERR_CLOSED' }));
    await expect(c.promise).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const d = r.wait('p', '4');
    d.cancel();
    expect(r.size).toBe(0);
  });
});
