import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { TcpTransport } from '@peerstash/transport-tcp';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerRpc } from './peer-rpc.js';

const silent = pino({ level: 'silent' });
const hex = () => randomBytes(32).toString('hex');

/** Two real transports on 127.0.0.1 port 0, linked, each with its own rpc. */
async function pair() {
  const ta = new TcpTransport({ nodeId: hex(), listen: '127.0.0.1:0', logger: silent });
  const tb = new TcpTransport({ nodeId: hex(), listen: '127.0.0.1:0', logger: silent });
  await ta.listen();
  const addr = await tb.listen();
  const connected = once(tb, 'peer:connect');
  await ta.dial(addr);
  await connected;
  const a = new PeerRpc(ta, silent, () => true);
  const b = new PeerRpc(tb, silent, () => true);
  a.answers('delete-ack', 'get-response', 'list-response');
  b.answers('delete-ack', 'get-response', 'list-response');
  const close = () => Promise.all([ta.close(), tb.close()]);
  opened.push(close);
  return { a, b, ta, tb, idA: ta.nodeId, idB: tb.nodeId };
}

const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((f) => f()));
});

const req = { type: 'delete' as const, ns: 'a'.repeat(64), id: 'b'.repeat(64) };

describe('PeerRpc over a real TCP pair', () => {
  it('dispatches by registered type and matches the answer by request id', async () => {
    const { a, b, idB } = await pair();
    const seen: string[] = [];
    b.handle('delete', async (peer, msg) => {
      seen.push(msg.reqId);
      await b.send(peer, { type: 'delete-ack', reqId: msg.reqId, deleted: true });
    });
    const one = a.request(idB, req, { expect: 'delete-ack', timeoutMs: 5000 });
    const two = a.request(idB, req, { expect: 'delete-ack', timeoutMs: 5000 });
    const [r1, r2] = await Promise.all([one, two]);
    expect(r1.msg.deleted && r2.msg.deleted).toBe(true);
    expect(new Set(seen).size).toBe(2);
    expect(a.pending).toBe(0);
  });

  it('times out a peer that never answers, and forgets the request', async () => {
    const { a, b, idB } = await pair();
    b.handle('delete', () => {});
    const t = Date.now();
    await expect(
      a.request(idB, req, { expect: 'delete-ack', timeoutMs: 150 }),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect(a.pending).toBe(0);
  });

  it('a caller’s abort cancels the request at once', async () => {
    const { a, b, idB } = await pair();
    b.handle('delete', () => {});
    const ac = new AbortController();
    const p = a.request(idB, req, { expect: 'delete-ack', timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(a.pending).toBe(0);
  });

  it('an answer of the wrong type is ERR_PROTOCOL; a malformed one is dropped', async () => {
    const { a, b, tb, idB, idA } = await pair();
    b.handle('delete', (peer, msg) =>
      b.send(peer, { type: 'get-response', reqId: msg.reqId, found: false }),
    );
    await expect(
      a.request(idB, req, { expect: 'delete-ack', timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    // fields that do not parse: dropped (and logged); the request runs into its deadline
    b.handle('delete', (_peer, msg) =>
      tb.send(idA, { type: 'delete-ack', reqId: msg.reqId, deleted: 'yes' }),
    );
    await expect(
      a.request(idB, req, { expect: 'delete-ack', timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    // and the link still works
    b.handle('delete', (peer, msg) =>
      b.send(peer, { type: 'delete-ack', reqId: msg.reqId, deleted: false }),
    );
    const ok = await a.request(idB, req, { expect: 'delete-ack', timeoutMs: 5000 });
    expect(ok.msg.deleted).toBe(false);
  });

  it('answers from another peer, late answers and unknown types do not settle anything', async () => {
    const { a, b, tb, idB, idA } = await pair();
    let reqId = '';
    b.handle('delete', (_peer, msg) => {
      reqId = msg.reqId;
    });
    const p = a.request(idB, req, { expect: 'delete-ack', timeoutMs: 300 });
    await new Promise((r) => setTimeout(r, 100));
    await tb.send(idA, { type: 'no-such-type', reqId });
    await expect(p).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    // too late: nobody waits any more, nothing breaks
    await b.send(idA, { type: 'delete-ack', reqId, deleted: true });
    // a stream answer nobody waits for is closed by the receiver
    const out = await tb.openStream(idA, { type: 'list-response', reqId: 'gone' });
    const [reset] = await Promise.all([once(out, 'error'), out.write(Buffer.from('x'))]);
    expect(reset[0]).toMatchObject({ code: 'ERR_STREAM_RESET' });
    expect(a.pending).toBe(0);
  });

  it('a stream answer is handed over with its body; failPeer fails what waits on that peer', async () => {
    const { a, b, idB } = await pair();
    b.handle('list-request', async (peer, msg) => {
      const out = await b.openStream(peer, { type: 'list-response', reqId: msg.reqId });
      out.end('line\n');
    });
    const r = await a.request(
      idB,
      { type: 'list-request', ns: 'a'.repeat(64) },
      { expect: 'list-response', timeoutMs: 5000 },
    );
    let body = '';
    for await (const c of r.stream) body += c;
    expect(body).toBe('line\n');
    b.handle('delete', () => {});
    const p = a.request(idB, req, { expect: 'delete-ack', timeoutMs: 60_000 });
    await new Promise((res) => setTimeout(res, 50));
    a.failPeer(idB, Object.assign(new Error('gone'), { code: 'ERR_NOT_CONNECTED' }));
    await expect(p).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
  });

  it('a request lost on a link swapped for a duplicate is resent on the new one (an untimed delete is not)', async () => {
    // ids ordered so the second link (dialed by the lower id) replaces the first (dialed by the higher)
    const high = `f${hex().slice(1)}`;
    const low = `0${hex().slice(1)}`;
    const ta = new TcpTransport({ nodeId: high, listen: '127.0.0.1:0', logger: silent });
    const tb = new TcpTransport({ nodeId: low, listen: '127.0.0.1:0', logger: silent });
    const tb2 = new TcpTransport({ nodeId: low, listen: '127.0.0.1:0', logger: silent });
    opened.push(() => Promise.all([ta.close(), tb.close(), tb2.close()]));
    const addrA = await ta.listen();
    const addrB = await tb.listen();
    await tb2.listen();
    const linked = once(tb, 'peer:connect');
    await ta.dial(addrB);
    await linked;
    const a = new PeerRpc(ta, silent, () => true);
    const b = new PeerRpc(tb, silent, () => true);
    const b2 = new PeerRpc(tb2, silent, () => true);
    a.answers('get-response', 'delete-ack');
    let lost = 0;
    // heard on the old link, never answered: as if the answers went down with it
    b.handle('get-request', () => void lost++);
    b.handle('delete', () => void lost++);
    const deletesAgain: Array<number | undefined> = [];
    b2.handle('get-request', async (peer, msg) => {
      await b2.send(peer, { type: 'get-response', reqId: msg.reqId, found: false });
    });
    b2.handle('delete', async (peer, msg) => {
      deletesAgain.push(msg.deletedAt);
      if (msg.deletedAt !== undefined)
        await b2.send(peer, { type: 'delete-ack', reqId: msg.reqId, deleted: true });
    });
    const t = Date.now();
    const asked = a.request(
      low,
      { type: 'get-request', ns: 'a'.repeat(64), id: 'b'.repeat(64) },
      { expect: 'get-response', timeoutMs: 20_000 },
    );
    const deleted = a.request(low, req, { expect: 'delete-ack', timeoutMs: 3000 });
    const deleteFailed = expect(deleted).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const timed = a.request(
      low,
      { ...req, deletedAt: Date.now() },
      { expect: 'delete-ack', timeoutMs: 20_000 },
    );
    await vi.waitFor(() => expect(lost).toBe(3));
    const relinked = once(ta, 'peer:relink');
    await tb2.dial(addrA); // the same node id again, dialed by the lower id: the young link gives way
    await relinked;
    const got = await asked;
    expect(got.kind === 'message' && got.msg.found).toBe(false);
    expect(Date.now() - t).toBeLessThan(10_000);
    // a delete with its time takes only older versions: sent again, and answered
    expect((await timed).msg.deleted).toBe(true);
    // one without could remove a newer put's copy if it came twice: it waits out its deadline
    await deleteFailed;
    expect(deletesAgain).toHaveLength(1);
    expect(deletesAgain[0]).toBeTypeOf('number');
    expect(a.pending).toBe(0);
  });
});
