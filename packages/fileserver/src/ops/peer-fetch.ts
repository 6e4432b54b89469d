// Fetching a blob from one peer: ask for it, open its stream for the reader and, through a
// fan-out, write it to the local store (committed only if it matches the peer's digest).

import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import { openRange } from '@peerstash/crypto';
import { BOUNDS, type NodeConfig } from '../config.js';
import { ClosedError, CODES, errorCode } from '../errors.js';
import { chunkSizeOf, plainSizeOf } from '../file-key.js';
import type { Inventory } from '../inventory.js';
import { abortError, type Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { GetResponse, IntegrityReport } from '../messages.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { cryptoOf, type NodeCrypto } from '../node-crypto.js';
import { Fanout, Meter, watchStarved } from '../streams.js';
import { nameMatches, type Vault } from '../vault.js';
import { firstChunk, type PlainRange, type PlainSource } from './plain-source.js';

/** Why a peer could not serve the blob: it lacks it (or another version), it is bad, or it failed. */
export type FetchOutcome = 'missing' | 'corrupt' | 'failed';

export interface FetchComponents {
  config: Pick<
    NodeConfig,
    'requestTimeoutMs' | 'idleTimeoutMs' | 'stallTimeoutMs' | 'getRangeBytes'
  >;
  cas: CasStore;
  inventory: Inventory;
  life: Lifecycle;
  rpc: PeerRpc;
  metrics: ServerMetrics;
  log: Logger;
  /** Inline when absent. */
  crypto?: NodeCrypto | undefined;
}

/** What is fetched: the file (key and id in the vault's namespace) and, to continue, its digest. */
export interface FetchTarget {
  vault: Vault;
  key: string;
  id: string;
  /** Only this exact blob will do (the catalog's version, or bytes of it already went out). */
  wantDigest: string | undefined;
  /** Only these plaintext bytes: the peer sends the header and the records covering them. */
  range?: PlainRange | undefined;
  signal: AbortSignal | undefined;
}

/**
 * A ranged answer: the sealed header and the records covering `range`, each verified as it is
 * opened; nothing is written locally (a part of a blob is no copy of it).
 */
async function openRanged(
  c: FetchComponents,
  peerId: string,
  t: FetchTarget,
  reply: { header: GetResponse; stream: Readable },
  range: PlainRange,
): Promise<PlainSource | FetchOutcome> {
  const { stream, header } = reply;
  const plainSize = plainSizeOf(header.size!, chunkSizeOf(header.extra ?? {}));
  if (header.range?.start !== range.start || header.range.end !== range.end) {
    stream.destroy();
    return 'missing';
  }
  if (plainSize !== range.plainSize) {
    // the version asked for has this size: a peer claiming another is not serving it
    stream.destroy();
    reportCorrupt(c, peerId, t.vault.ns, t.id, 'ranged answer of the wrong size');
    return 'corrupt';
  }
  const meter = new Meter({
    onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
    idleMs: c.config.idleTimeoutMs,
    what: 'ranged fetch',
  });
  watchStarved(stream, meter, c.config.stallTimeoutMs, 'ranged fetch');
  const opener = openRange(t.vault.vaultKey, range);
  pipeline(stream, meter, opener).catch((err) => opener.destroy(err));
  const close = () => {
    stream.destroy();
    opener.destroy();
  };
  const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await firstChunk(it, close);
  return {
    it,
    first,
    size: range.plainSize,
    digest: header.digest!,
    origin: 'peer',
    peerId,
    finish: async () => {},
    close,
    settled: Promise.resolve(),
  };
}

/** Tells a peer that the copy it served failed verification, so it can check and drop it. */
export function reportCorrupt(
  c: Pick<FetchComponents, 'rpc' | 'metrics' | 'log'>,
  peerId: string,
  ns: string,
  id: string,
  why: string,
): void {
  c.metrics.integrityFailures.inc({ source: 'peer' });
  c.log.warn({ peer: peerId, id, why }, 'replica from peer failed verification');
  c.rpc
    .send(peerId, { type: 'integrity-report', ns, id } satisfies IntegrityReport)
    .catch(() => {});
}

/**
 * Asks one peer for the blob. Its stream is opened for the reader and, through a fan-out, written
 * to the local store with cas-store's `expectedDigest` (the opener is the primary: a full disk
 * costs only the local copy, a bad chunk aborts both).
 */
export async function fetchFromPeer(
  c: FetchComponents,
  peerId: string,
  t: FetchTarget,
): Promise<PlainSource | FetchOutcome> {
  const { vault, key, id, wantDigest, range, signal } = t;
  const { ns } = vault;
  let stream: Readable | undefined;
  try {
    const reply = await c.rpc.request(
      peerId,
      {
        type: 'get-request',
        ns,
        id,
        ...(range ? { range: { start: range.start, end: range.end } } : {}),
      },
      { expect: 'get-response', timeoutMs: c.config.requestTimeoutMs, signal },
    );
    if (reply.kind === 'message') return 'missing';
    stream = reply.stream;
    const { header } = reply;
    const digest = header.digest!;
    if (wantDigest !== undefined && digest !== wantDigest) {
      // another version of the file: it cannot continue bytes already sent
      stream.destroy();
      return 'missing';
    }
    const extra = header.extra ?? {};
    if (!nameMatches(vault, extra.name, key)) {
      stream.destroy();
      reportCorrupt(c, peerId, ns, id, 'sealed name does not match the key');
      return 'corrupt';
    }
    if (range) return await openRanged(c, peerId, t, reply, range);
    const started = performance.now();
    const meter = new Meter({
      onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
      idleMs: c.config.idleTimeoutMs,
      what: 'replica fetch',
    });
    watchStarved(stream, meter, c.config.stallTimeoutMs, 'replica fetch');
    const opener = cryptoOf(c).open(vault.vaultKey);
    const toDisk = new PassThrough({ highWaterMark: BOUNDS.localBuffer });
    const writing = c.cas
      .write(ns, id, toDisk, { extra, expectedDigest: digest, signal: c.life.halt })
      .finally(() => c.inventory.changed());
    // a write that fails before it reads its source (mkdir/open errors) leaves toDisk
    // unread: drop it from the fan-out, or the reader waits on it until the idle timeout
    writing.catch((err: unknown) =>
      toDisk.destroy(err instanceof Error ? err : new Error(String(err))),
    );
    const fan = new Fanout(opener, [toDisk], (_w, err) =>
      c.log.warn({ id, code: errorCode(err) }, 'cannot keep a local copy of a fetched blob'),
    );
    const incoming = stream;
    pipeline(incoming, meter, fan).catch((err) => opener.destroy(err));
    const close = () => {
      incoming.destroy();
      opener.destroy();
      toDisk.destroy();
    };
    const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await firstChunk(it, close);
    return {
      it,
      first,
      size: plainSizeOf(header.size!, chunkSizeOf(extra)) ?? header.size!,
      digest,
      origin: 'peer',
      peerId,
      finish: async () => {
        try {
          await writing;
          c.metrics.transferDuration.observe({ op: 'fetch' }, (performance.now() - started) / 1000);
        } catch (err) {
          if (errorCode(err) === CODES.INTEGRITY) {
            reportCorrupt(c, peerId, ns, id, 'replica failed its digest');
          } else {
            c.log.warn({ id, code: errorCode(err) }, 'fetched blob not kept locally');
          }
        }
      },
      close,
      settled: writing.catch(() => {}),
    };
  } catch (err) {
    stream?.destroy();
    if (signal?.aborted) throw abortError(signal);
    if (!c.life.live()) throw new ClosedError();
    if (errorCode(err) === CODES.INTEGRITY) {
      reportCorrupt(c, peerId, ns, id, 'replica failed verification');
      return 'corrupt';
    }
    c.log.info({ peer: peerId, id, code: errorCode(err) }, 'fetch from peer failed');
    return 'failed';
  }
}
