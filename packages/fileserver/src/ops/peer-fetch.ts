// Fetching a blob from one peer: ask for it, open its stream for the reader and, through a
// fan-out, write it to the local store (committed only if it matches the peer's digest).

import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CasStore } from '@peerstash/cas-store';
import { open as openSealed } from '@peerstash/crypto';
import { BOUNDS, type NodeConfig } from '../config.js';
import { ClosedError, CODES, errorCode } from '../errors.js';
import { chunkSizeOf, plainSizeOf } from '../file-key.js';
import type { Inventory } from '../inventory.js';
import { abortError, type Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { IntegrityReport } from '../messages.js';
import type { ServerMetrics } from '../metrics.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { Fanout, Meter, watchStarved } from '../streams.js';
import { nameMatches, type Vault } from '../vault.js';
import { firstChunk, type PlainSource } from './plain-source.js';

/** Why a peer could not serve the blob: it lacks it (or another version), it is bad, or it failed. */
export type FetchOutcome = 'missing' | 'corrupt' | 'failed';

export interface FetchComponents {
  config: Pick<NodeConfig, 'requestTimeoutMs' | 'idleTimeoutMs' | 'stallTimeoutMs'>;
  cas: CasStore;
  inventory: Inventory;
  life: Lifecycle;
  rpc: PeerRpc;
  metrics: ServerMetrics;
  log: Logger;
}

/** What is fetched: the file (key and id in the vault's namespace) and, to continue, its digest. */
export interface FetchTarget {
  vault: Vault;
  key: string;
  id: string;
  /** Only this exact blob will do (bytes of it already went to the reader). */
  wantDigest: string | undefined;
  signal: AbortSignal | undefined;
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
  const { vault, key, id, wantDigest, signal } = t;
  const { ns } = vault;
  let stream: Readable | undefined;
  try {
    const reply = await c.rpc.request(
      peerId,
      { type: 'get-request', ns, id },
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
    const started = performance.now();
    const meter = new Meter({
      onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
      idleMs: c.config.idleTimeoutMs,
      what: 'replica fetch',
    });
    watchStarved(stream, meter, c.config.stallTimeoutMs, 'replica fetch');
    const opener = openSealed(vault.vaultKey);
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
