// A peer's delete names its time and the version it knew: a blob written after the delete (a
// put elsewhere racing it) stays, the version named goes whatever the clocks say, and a delete
// from an older node (no time) removes the blob as before.
import { createHash, randomBytes } from 'node:crypto';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { afterEach, expect, it } from 'vitest';
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

it('a delete keeps a blob written after it, takes the version it names, and an old-style one takes any', async () => {
  c = await startCluster(1);
  const a = c.nodes[0] as FileServer;
  raw = await rawPeer(c.clusterSecret, 'e'.repeat(64));
  const x = raw;
  const aId = (await x.dial(a.address!)).id;
  const answers = new Map<string, Record<string, unknown>>();
  x.on('message', (from, msg) => {
    const m = msg as Record<string, unknown>;
    if (from === aId && typeof m.reqId === 'string') answers.set(m.reqId, m);
  });
  const answer = async (reqId: string) => {
    await waitFor(`an answer to ${reqId}`, async () => answers.has(reqId));
    return answers.get(reqId)!;
  };
  const ns = randomBytes(32).toString('hex');
  const now = Date.now();

  /** Stores a replica on A written at `putAt`; resolves with its id and sealed digest. */
  const store = async (name: string, putAt: number) => {
    const id = randomBytes(32).toString('hex');
    const data = randomBytes(4096);
    const digest = createHash('sha256').update(data).digest('hex');
    await x.send(aId, { type: 'store-small', reqId: name, ns, id, extra: { putAt }, data });
    await x.send(aId, { type: 'store-commit', reqId: name, digest, size: data.length });
    expect(await answer(name)).toMatchObject({ type: 'store-ack', ok: true });
    return { id, digest };
  };
  const del = async (reqId: string, fields: Record<string, unknown>) => {
    await x.send(aId, { type: 'delete', reqId, ns, ...fields });
    return (await answer(reqId)).deleted;
  };

  // written after the delete: another version, kept
  const racing = await store('racing', now);
  expect(await del('d1', { id: racing.id, deletedAt: now - 60_000 })).toBe(false);
  // the same delete naming that version (the writer's clock ran ahead): it goes
  expect(await del('d2', { id: racing.id, deletedAt: now - 60_000, version: racing.digest })).toBe(
    true,
  );
  expect(await del('d3', { id: racing.id, deletedAt: now })).toBe(false);

  // written before the delete: it goes
  const older = await store('older', now - 120_000);
  expect(await del('d4', { id: older.id, deletedAt: now - 60_000 })).toBe(true);

  // a delete from a node that sends no time: it goes, whatever its version
  const any = await store('any', now + 60_000);
  expect(await del('d5', { id: any.id })).toBe(true);
  expect(await del('d6', { id: any.id })).toBe(false);

  // a time further ahead than clocks may drift takes nothing
  const ahead = await store('ahead', now);
  expect(await del('d7', { id: ahead.id, deletedAt: now + 10 * 60_000 })).toBe(false);
  expect(await del('d8', { id: ahead.id, version: ahead.digest, deletedAt: now })).toBe(true);

  // a malformed time is a bad message, not a delete: never answered, the blob still there, and
  // the next request on the same link answered
  const kept = await store('kept', now);
  await x.send(aId, { type: 'delete', reqId: 'bad', ns, id: kept.id, deletedAt: 'soon' });
  expect(await del('d9', { id: kept.id, version: kept.digest, deletedAt: now })).toBe(true);
  expect(answers.has('bad')).toBe(false);
});
