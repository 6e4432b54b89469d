// Storing a file: seal the plaintext, write it to the local store and, at the same time, stream
// it to the R replica peers (each one directly, a fan-out, or once down a chain of them), each of
// which commits once told the digest.

import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PendingPut } from '../catalog/catalog.js';
import { wasTaken, withFileLock } from '../catalog/file-locks.js';
import type { Attributes } from '../catalog/record.js';
import { BOUNDS } from '../config.js';
import { AbortedError, DeletedError } from '../errors.js';
import { abortError } from '../lifecycle.js';
import type { Extra } from '../messages.js';
import { cryptoOf } from '../node-crypto.js';
import { rankNodes } from '../placement.js';
import { type ByteSource, bothDone, Fanout, Meter, Rechunk, toReadable } from '../streams.js';
import { fileOf, sealName } from '../vault.js';
import { publishEncoded } from './publish.js';
import {
  fillFromLocal,
  openChain,
  openPush,
  type Push,
  settlePush,
  useChain,
} from './replica-push.js';
import type { StoreComponents } from './store-components.js';
import {
  abortSmall,
  commitSmall,
  type Head,
  readHead,
  SMALL_FILE_MAX,
  type SmallPush,
  sealSmall,
  sendSmall,
} from './store-small.js';

export type { StoreComponents } from './store-components.js';

export interface StoreResult {
  key: string;
  /** Plaintext bytes stored. */
  size: number;
  /** SHA-256 of the sealed blob. */
  digest: string;
  /** Peers that acknowledged a replica. */
  replicas: number;
  /** When this version was written: its catalog clock's wall time (ms). */
  modified: number;
}

export interface StoreOptions {
  signal?: AbortSignal | undefined;
  /**
   * Attributes sealed into the version's record, asked once the source has ended and before
   * anything commits (so digests computed while streaming can be kept). If it throws, the store
   * fails with that error and nothing is kept: the local write and the replicas are aborted.
   */
  attributes?: (() => Attributes | Promise<Attributes>) | undefined;
}

/**
 * Seals `source` with the vault key, writes it locally (atomic), then streams the sealed blob
 * to the replica peers; resolves when the local write and every reachable replica finished.
 */
export async function storeFile(
  c: StoreComponents,
  key: string,
  source: ByteSource,
  options: StoreOptions = {},
): Promise<StoreResult> {
  const { signal } = options;
  const { vault, id } = fileOf(c.vault, key);
  if (signal?.aborted) throw abortError(signal);
  // the record is begun before any byte moves (a bad key fails here) and dated at its commit
  const record = c.catalog.beginPut(key);
  const started = performance.now();
  const { ns, vaultKey } = vault;
  const extra: Extra = {
    name: sealName(vault, key),
    chunkSize: c.config.chunkSize,
    // the version's time: a tombstone older than this does not refuse it (see Durability)
    putAt: Date.now(),
  };
  const input = toReadable(source);
  let head: Head;
  try {
    head = await readHead(input, SMALL_FILE_MAX, c.config.idleTimeoutMs, signal);
  } catch (err) {
    input.destroy();
    c.metrics.puts.inc({ result: 'error' });
    throw c.life.mapAbort(err, signal);
  }
  if (head.ended) return storeWhole(c, key, record, head, extra, options, started);
  const meter = new Meter({
    onBytes: (n) => c.metrics.bytesIn.inc({ via: 'client' }, n),
    idleMs: c.config.idleTimeoutMs,
    what: 'upload',
  });
  const sealer = cryptoOf(c).seal(vaultKey, { chunkSize: c.config.chunkSize });
  // Replicas stream while the file is sealed and written here; each replica commits only once
  // the digest that follows (store-commit) matches, so put costs max(local, replicas), not the sum.
  const targets = rankNodes(id, c.peerIds()).slice(0, c.config.replication);
  const chained = useChain(c, targets);
  const pushes = chained
    ? [await openChain(c, targets, ns, id, extra)]
    : await Promise.all(targets.map((peerId) => openPush(c, peerId, ns, id, extra)));
  const live = pushes.filter((p): p is Push => p !== undefined);
  const local = new PassThrough({ highWaterMark: BOUNDS.localBuffer });
  const fanout = new Fanout(
    local,
    live.map((p) => p.input),
    (w, err) => {
      const push = live.find((p) => p.input === w);
      if (push && !push.error) push.error = err;
    },
  );
  let written: { size: number; digest: string };
  let attributes: Attributes | undefined;
  const writeSignal = c.life.writeSignal(signal);
  try {
    // without late attributes the pass-through is left out: one stream hop less per chunk
    const ask = options.attributes;
    const late = ask
      ? [
          lateAttributes(ask, (a) => {
            attributes = a;
          }),
        ]
      : [];
    const piping = pipeline(
      [input, meter, ...late, sealer, new Rechunk(BOUNDS.replicaPiece), fanout],
      signal ? { signal } : {},
    );
    const writing = c.cas
      .write(ns, id, local, { extra, signal: writeSignal.signal })
      .finally(() => c.inventory.changed());
    written = await bothDone(writing, piping);
  } catch (err) {
    input.destroy();
    sealer.destroy();
    fanout.destroy();
    for (const p of live) {
      p.input.destroy(new AbortedError('the local write failed'));
      p.reply.cancel();
    }
    c.metrics.puts.inc({ result: 'error' });
    throw c.life.mapAbort(err, signal);
  } finally {
    writeSignal.unlink();
  }

  const made = (await Promise.all(live.map((push) => settlePush(c, push, written)))).flat();
  if (chained) {
    // a chain short of copies: the missing ones go directly, from the local copy
    const skip = live.filter((p) => p.error).map((p) => p.peerId);
    made.push(...(await fillFromLocal(c, ns, id, extra, targets, made, skip, written)));
  }
  const attrs = attributes ? { attributes } : {};
  return finishPut(c, record, {
    id,
    written,
    size: meter.bytes,
    attrs,
    replicas: new Set(made).size,
    of: targets.length,
    started,
    putAt: extra.putAt as number,
  });
}

/** A put whose plaintext came whole (small): sealed in memory, one message to each replica. */
async function storeWhole(
  c: StoreComponents,
  key: string,
  record: PendingPut,
  head: Head,
  extra: Extra,
  options: StoreOptions,
  started: number,
): Promise<StoreResult> {
  const { signal } = options;
  const { vault, id } = fileOf(c.vault, key);
  c.metrics.bytesIn.inc({ via: 'client' }, head.bytes);
  const writeSignal = c.life.writeSignal(signal);
  const targets = rankNodes(id, c.peerIds()).slice(0, c.config.replication);
  let pushes: SmallPush[] = [];
  let written: { size: number; digest: string };
  let attributes: Attributes | undefined;
  try {
    // asked once the source ended and before anything commits, as the streaming put does
    if (options.attributes) attributes = await options.attributes();
    if (signal?.aborted) throw abortError(signal);
    const sealed = sealSmall(vault.vaultKey, head, c.config.chunkSize);
    pushes = targets.map((peerId) => sendSmall(c, peerId, vault.ns, id, extra, sealed));
    written = await c.cas
      .write(vault.ns, id, [sealed], { extra, signal: writeSignal.signal })
      .finally(() => c.inventory.changed());
  } catch (err) {
    // no commit follows: each replica drops its copy (a node without store-abort at its deadline)
    abortSmall(c, pushes);
    c.metrics.puts.inc({ result: 'error' });
    throw c.life.mapAbort(err, signal);
  } finally {
    writeSignal.unlink();
  }
  const acks = await Promise.all(
    pushes.map((p) =>
      commitSmall(c, p, written).then(
        () => true,
        () => false,
      ),
    ),
  );
  const attrs = attributes ? { attributes } : {};
  return finishPut(c, record, {
    id,
    written,
    size: head.bytes,
    attrs,
    replicas: acks.filter(Boolean).length,
    of: targets.length,
    started,
    putAt: extra.putAt as number,
  });
}

/** Whether a delete everywhere dated at or after `putAt` is known here (blob tombstone or record). */
function deletedSince(c: StoreComponents, ns: string, id: string, putAt: number): boolean {
  const tomb = c.tombstones.get(ns, id);
  if (tomb && tomb.deletedAt >= putAt) return true;
  const r = c.catalog.get(ns, id);
  return !!r && r.deleted && r.hlc.wall >= putAt;
}

/** Commits the version's record once the copies are written, publishes it, and reports. */
async function finishPut(
  c: StoreComponents,
  record: PendingPut,
  put: {
    id: string;
    written: { size: number; digest: string };
    /** Plaintext bytes. */
    size: number;
    attrs: { attributes?: Attributes };
    /** Replica peers whose copy is durable; `of` peers were asked. */
    replicas: number;
    of: number;
    started: number;
    /** When the put began (its blobs' `putAt`). */
    putAt: number;
  },
): Promise<StoreResult> {
  const { id, written, size, attrs, replicas, of, started, putAt } = put;
  const { ns } = fileOf(c.vault, record.key).vault;
  // Acknowledged: the version's record, pushed to every peer before the caller hears of it, so
  // two puts of one key that both succeeded meet on every node that answered. The push follows
  // the local transaction (a put that failed here must not become the version anywhere). The
  // transaction runs under the file's lock and only if no delete everywhere dated after this put
  // began took its copy here meanwhile (the blob rules date a put by its start): the put then
  // fails instead of listing a version with no copy. A copy gone for another reason (handed
  // off, scrubbed) or replaced by a concurrent put's leaves the records to decide, as ever.
  const committed = await withFileLock(c.catalog, ns, id, async () => {
    const here = await c.cas.stat(ns, id).catch(() => undefined);
    const taken = wasTaken(c.catalog, ns, id, written.digest);
    if (here?.digest !== written.digest && (taken || deletedSince(c, ns, id, putAt))) {
      c.metrics.puts.inc({ result: 'error' });
      throw new DeletedError('deleted everywhere while it was written; put it again to keep it');
    }
    return record.commit({ version: written.digest, size, sealedSize: written.size, ...attrs });
  });
  await publishEncoded(c, committed.encoded);
  c.metrics.puts.inc({ result: 'ok' });
  c.metrics.transferDuration.observe({ op: 'store' }, (performance.now() - started) / 1000);
  c.log.debug({ id, size, replicas, of }, 'stored');
  return {
    key: record.key,
    size,
    digest: written.digest,
    replicas,
    modified: committed.record.hlc.wall,
  };
}

/**
 * A pass-through that asks `ask` once its input has ended, before it ends its output: a throw
 * fails the pipeline, so the sealed blob is never finished and nothing commits.
 */
function lateAttributes(
  ask: NonNullable<StoreOptions['attributes']>,
  keep: (a: Attributes) => void,
): Transform {
  return new Transform({
    transform(chunk, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      Promise.resolve()
        .then(ask)
        .then(
          (a) => {
            keep(a);
            cb();
          },
          (err) => cb(err instanceof Error ? err : new Error(String(err))),
        );
    },
  });
}
