// Serving side of get-request and delete: stream a blob this node holds to the asking peer (or
// answer "not here" at once), and delete a replica when a peer deletes everywhere.

import { pipeline } from 'node:stream/promises';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { sealedRange } from '@peerstash/crypto';
import type { Catalog } from '../catalog/catalog.js';
import type { NodeConfig } from '../config.js';
import { CODES, errorCode, IntegrityError } from '../errors.js';
import { chunkSizeOf, plainSizeOf } from '../file-key.js';
import type { Inventory } from '../inventory.js';
import type { Logger } from '../logger.js';
import type { DeleteRequest, Extra, GetRequest, GetResponse } from '../messages.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { Meter } from '../streams.js';
import { deleteOlder } from '../tombstone-rules.js';

export interface ServeComponents {
  config: Pick<NodeConfig, 'idleTimeoutMs'> & {
    catalog: Pick<NodeConfig['catalog'], 'maxDriftMs'>;
  };
  cas: CasStore;
  catalog: Catalog;
  inventory: Inventory;
  rpc: PeerRpc;
  metrics: ServerMetrics;
  log: Logger;
}

/** The sealed header and records that cover a plaintext range of the blob `meta` describes. */
function rangeSpans(meta: BlobMeta, range: { start: number; end: number }) {
  const chunkSize = chunkSizeOf(meta.extra);
  const plain = plainSizeOf(meta.size, chunkSize);
  if (plain === undefined) throw new IntegrityError('sealed size does not decode');
  const plan = sealedRange(range, plain, chunkSize);
  return [plan.header, plan.body];
}

export async function serveGet(c: ServeComponents, peerId: string, req: GetRequest): Promise<void> {
  let read: Awaited<ReturnType<CasStore['read']>>;
  const { range } = req;
  try {
    // a range past this copy's end (another version than the asker's) is answered as missing
    read = await c.cas.read(req.ns, req.id, range ? { spans: (m) => rangeSpans(m, range) } : {});
  } catch (err) {
    const quiet = [CODES.NOT_FOUND, CODES.RANGE_NOT_SATISFIABLE, CODES.INVALID_ARGUMENT];
    if (!quiet.includes(errorCode(err) as never)) {
      c.log.warn({ peer: peerId, id: req.id, code: errorCode(err) }, 'cannot serve blob');
    }
    const miss: GetResponse = { type: 'get-response', reqId: req.reqId, found: false };
    await c.rpc.send(peerId, miss).catch(() => {});
    return;
  }
  const { stream, meta } = read;
  const header: GetResponse = {
    type: 'get-response',
    reqId: req.reqId,
    found: true,
    size: meta.size,
    digest: meta.digest,
    extra: (meta.extra ?? {}) as Extra,
  };
  if (range) {
    const plain = plainSizeOf(meta.size, chunkSizeOf(meta.extra)) as number;
    header.range = { start: range.start, end: Math.min(range.end, plain - 1) };
  }
  let out: Awaited<ReturnType<PeerRpc['openStream']>>;
  try {
    out = await c.rpc.openStream(peerId, header);
  } catch (err) {
    stream.destroy();
    c.log.debug({ peer: peerId, err }, 'could not open a stream to the peer');
    return;
  }
  const started = performance.now();
  const meter = new Meter({
    onBytes: (n) => c.metrics.bytesOut.inc({ via: 'peer' }, n),
    idleMs: c.config.idleTimeoutMs,
    what: 'replica serve',
  });
  try {
    await pipeline(stream, meter, out);
    c.metrics.transferDuration.observe({ op: 'serve' }, (performance.now() - started) / 1000);
  } catch (err) {
    c.log.debug({ peer: peerId, code: errorCode(err) }, 'serving a blob ended early');
  }
}

export async function serveDelete(
  c: ServeComponents,
  peerId: string,
  req: DeleteRequest,
): Promise<void> {
  let deleted = false;
  try {
    if (req.deletedAt === undefined) {
      deleted = await c.cas.delete(req.ns, req.id).finally(() => c.inventory.changed());
    } else if (req.deletedAt > Date.now() + c.config.catalog.maxDriftMs) {
      // a time further ahead than clocks may drift (its tombstone is refused here too): it would
      // take versions written for that long to come, so it takes none
      c.log.warn({ peer: peerId, id: req.id, deletedAt: req.deletedAt }, 'delete from the future');
    } else {
      const done = await deleteOlder(c, req.ns, req.id, req.deletedAt, req.version);
      deleted = done.deleted;
      if (done.kept) c.log.info({ peer: peerId, id: req.id }, 'delete left a newer version');
    }
    c.metrics.deletes.inc({ scope: 'peer' });
  } catch (err) {
    c.log.warn({ peer: peerId, code: errorCode(err) }, 'peer delete failed locally');
  }
  await c.rpc.send(peerId, { type: 'delete-ack', reqId: req.reqId, deleted }).catch(() => {});
}
