// A peer that sends store-small replicas faster than it commits them: past a bound of sealed bytes
// waiting for their commit, the node refuses more (ERR_LIMIT) instead of holding them all, and
// takes new ones again once the waiting ones are settled.
import { createHash, randomBytes } from 'node:crypto';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { afterEach, expect, it } from 'vitest';
import { BOUNDS } from '../src/config.js';
import type { FileServer } from '../src/index.js';
import { type Cluster, rawPeer, startCluster, waitFor } from './helpers.js';

let c: Cluster | undefined;
let raw: TcpTransport | undefined;
afterEach(async () => {
  await raw?.close();
  raw = undefined;
  await c?.stop();
  c = undefined;
});

it('a peer flooding store-small without commits is refused past the bound, then served again', async () => {
  c = await startCluster(1);
  const a = c.nodes[0] as FileServer;
  raw = await rawPeer(c.clusterSecret, 'f'.repeat(64));
  const x = raw;
  const aId = (await x.dial(a.address!)).id;
  const acks = new Map<string, { ok: boolean; code?: string }>();
  x.on('message', (from, msg) => {
    const m = msg as { type?: string; reqId?: string; ok?: boolean; code?: string };
    if (from === aId && m.type === 'store-ack') acks.set(String(m.reqId), m as { ok: boolean });
  });
  const ns = randomBytes(32).toString('hex');
  const data = randomBytes(60 * 1024);
  const small = (reqId: string) => ({
    type: 'store-small',
    reqId,
    ns,
    id: randomBytes(32).toString('hex'),
    extra: {},
    data,
  });
  // a third more than the bound, none committed
  const count = Math.ceil((BOUNDS.smallPendingPerPeer / data.length) * 1.33);
  const sent = Array.from({ length: count }, (_, i) => `flood-${i}`);
  for (const reqId of sent) await x.send(aId, small(reqId));
  const fits = Math.floor(BOUNDS.smallPendingPerPeer / data.length);
  await waitFor('the ones past the bound refused', async () => acks.size >= count - fits);
  expect([...acks.values()].every((ack) => !ack.ok && ack.code === 'ERR_LIMIT')).toBe(true);
  expect(acks.size).toBe(count - fits);
  // the waiting ones given up by the writer: each answered, none kept
  for (const reqId of sent) if (!acks.has(reqId)) await x.send(aId, { type: 'store-abort', reqId });
  await waitFor('every replica answered', async () => acks.size === count);
  expect([...acks.values()].some((ack) => ack.ok)).toBe(false);
  // nothing is waiting now: the next one is taken and kept on its commit
  await x.send(aId, small('after'));
  await new Promise((r) => setTimeout(r, 200));
  expect(acks.has('after')).toBe(false);
  const digest = createHash('sha256').update(data).digest('hex');
  await x.send(aId, { type: 'store-commit', reqId: 'after', digest, size: data.length });
  await waitFor('the replica after the flood acked', async () => acks.has('after'));
  expect(acks.get('after')).toMatchObject({ ok: true });
  expect((await a.status()).peers.length).toBeGreaterThan(0);
});
