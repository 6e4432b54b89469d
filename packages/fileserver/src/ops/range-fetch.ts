// One range of a multi-source get from one holder: the sealed header and the records covering
// it, every record MAC-verified (openRange) as it arrives, kept whole until the range is sent.

import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HEADER_SIZE, openRange } from '@peerstash/crypto';
import { CODES, errorCode } from '../errors.js';
import { chunkSizeOf, plainSizeOf } from '../file-key.js';
import { Meter, watchStarved } from '../streams.js';
import { nameMatches, type Vault } from '../vault.js';
import { type FetchComponents, type FetchOutcome, reportCorrupt } from './peer-fetch.js';
import type { PlainRange } from './plain-source.js';

/** A range fetched and verified: its plaintext, and its sealed records for the local copy. */
export interface FetchedRange {
  /** The range's plaintext, in order, every byte from a record whose tag verified. */
  plain: Buffer[];
  /** The sealed records as received, without the header (a local copy is these, range by range). */
  sealed: Buffer[];
  /** The blob's sealed header as this holder sent it (every range's must be the same). */
  header: Buffer;
  extra: Record<string, unknown>;
  chunkSize: number;
}

/** Why a range did not come: the holder lacks the version, served bad bytes, or failed (`err`). */
export interface RangeFailure {
  outcome: FetchOutcome;
  err?: unknown;
}

export interface RangeTarget {
  vault: Vault;
  key: string;
  id: string;
  /** The sealed digest of the version read: a holder of another is not asked again. */
  digest: string;
  range: PlainRange;
}

/** Splits the first HEADER_SIZE bytes off a sealed stream and keeps the rest, passing all on. */
class KeepSealed extends Transform {
  readonly header = Buffer.alloc(HEADER_SIZE);
  readonly pieces: Buffer[] = [];
  #fill = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    let body = chunk;
    if (this.#fill < HEADER_SIZE) {
      const n = Math.min(HEADER_SIZE - this.#fill, chunk.length);
      chunk.copy(this.header, this.#fill, 0, n);
      this.#fill += n;
      body = chunk.subarray(n);
    }
    // a reference, not a copy: the opener holds the same buffers until their record verifies
    if (body.length > 0) this.pieces.push(body);
    callback(null, chunk);
  }
}

/**
 * Asks `peerId` for the plaintext range of `t` and reads the whole answer. A holder that sends
 * nothing for the stall timeout (a frozen process) is ERR_TIMEOUT, as a single-source get's is;
 * a record that fails its tag is reported to the holder and answered 'corrupt'.
 */
export async function fetchRange(
  c: FetchComponents,
  peerId: string,
  t: RangeTarget,
  signal: AbortSignal,
): Promise<FetchedRange | RangeFailure> {
  const { vault, id, range } = t;
  try {
    const reply = await c.rpc.request(
      peerId,
      { type: 'get-request', ns: vault.ns, id, range: { start: range.start, end: range.end } },
      { expect: 'get-response', timeoutMs: c.config.requestTimeoutMs, signal },
    );
    if (reply.kind === 'message') return { outcome: 'missing' };
    const { header, stream } = reply;
    const extra = header.extra ?? {};
    const chunkSize = chunkSizeOf(extra);
    if (
      header.digest !== t.digest ||
      header.range?.start !== range.start ||
      header.range.end !== range.end
    ) {
      // another version of the file (or none of it past its end): not a holder of this one
      stream.destroy();
      return { outcome: 'missing' };
    }
    if (
      !nameMatches(vault, extra.name, t.key) ||
      plainSizeOf(header.size!, chunkSize) !== range.plainSize
    ) {
      stream.destroy();
      reportCorrupt(c, peerId, vault.ns, id, 'ranged answer of another file or size');
      return { outcome: 'corrupt' };
    }
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const meter = new Meter({
        onBytes: (n) => c.metrics.bytesIn.inc({ via: 'peer' }, n),
        idleMs: c.config.idleTimeoutMs,
        what: 'ranged fetch',
      });
      watchStarved(stream, meter, c.config.stallTimeoutMs, 'ranged fetch');
      const keep = new KeepSealed();
      const opener = openRange(vault.vaultKey, range);
      const piping = pipeline(stream, meter, keep, opener);
      const plain: Buffer[] = [];
      const collecting = (async () => {
        for await (const p of opener) plain.push(p as Buffer);
      })();
      // whichever fails first: the peer's stream (stall, reset) or a record's tag
      await Promise.all([piping, collecting]);
      return { plain, sealed: keep.pieces, header: keep.header, extra, chunkSize };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } catch (err) {
    if (signal.aborted) return { outcome: 'failed', err };
    if (errorCode(err) === CODES.INTEGRITY) {
      reportCorrupt(c, peerId, vault.ns, id, 'a ranged record failed verification');
      return { outcome: 'corrupt', err };
    }
    c.log.info({ peer: peerId, id, code: errorCode(err) }, 'ranged fetch from peer failed');
    return { outcome: 'failed', err };
  }
}
