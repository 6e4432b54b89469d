// A put whose own copy a peer's delete took while it waited for its replica, when the node learns
// nothing else of that delete (its record push and blob tombstone never came): the put fails
// ERR_DELETED, it is not acknowledged with no copy anywhere.
import type { Readable } from 'node:stream';
import { deriveFileId, deriveNamespace } from '@peerstash/crypto';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { afterEach, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { type Cluster, pattern, rawPeer, startCluster, waitFor } from './helpers.js';

let c: Cluster | undefined;
let raw: TcpTransport | undefined;
afterEach(async () => {
  await raw?.close();
  raw = undefined;
  await c?.stop();
  c = undefined;
});

it('a put whose copy a delete took while its replica was pending fails ERR_DELETED', async () => {
  c = await startCluster(1, { replicationFactor: 1, repairIntervalMs: 0 });
  const b = c.nodes[0] as FileServer;
  raw = await rawPeer(c.clusterSecret, 'e'.repeat(64));
  const x = raw;
  const bId = (await x.dial(b.address!)).id;
  await waitFor('x linked', async () => (await b.status()).peers.length === 1);
  const key = 'taken/one';
  const ns = deriveNamespace(c.vaultKey);
  const id = deriveFileId(c.vaultKey, key);

  // x is B's replica: it reads what B sends and acks each commit, but for the held one it first
  // deletes the file everywhere, as a peer that took a delete would
  let hold = false;
  let deleteAck: Record<string, unknown> | undefined;
  let v1 = '';
  x.on('stream', (_from, _header, stream: Readable) => stream.resume());
  x.on('message', async (from, msg) => {
    const m = msg as Record<string, unknown>;
    if (from !== bId) return;
    if (m.type === 'delete-ack') deleteAck = m;
    if (m.type !== 'store-commit') return;
    if (hold) {
      await x.send(bId, {
        type: 'delete',
        reqId: 'd1',
        ns,
        id,
        deletedAt: Date.now(),
        version: v1,
      });
      await waitFor('the delete answered', async () => deleteAck !== undefined);
    }
    await x.send(bId, { type: 'store-ack', reqId: m.reqId, ok: true });
  });

  await b.store(key, pattern('v1', 4096));
  v1 = (await b.info(key)).version;
  hold = true;
  const outcome = await b.store(key, pattern('v2', 2 * 1024 * 1024)).then(
    () => 'acknowledged',
    (err: { code?: string }) => err.code ?? 'error',
  );
  // the delete took B's copy of v2 (written after the version it named, before it by time)
  expect(deleteAck).toMatchObject({ deleted: true });
  expect(outcome).toBe('ERR_DELETED');
  // and the file is still v1 in B's catalog: nothing listed that no node holds
  expect((await b.info(key)).version).toBe(v1);
});
