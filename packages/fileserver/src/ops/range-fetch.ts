// One range of a multi-source get from one holder: the sealed header and the records covering
// it, every record MAC-verified as it arrives and kept sealed in one buffer; opened when sent.

import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HEADER_SIZE, openRange, sealedRange } from '@peerstash/crypto';
import { CODES, errorCode, IntegrityError } from '../errors.js';
import { chunkSizeOf, plainSizeOf } from '../file-key.js';
import { Meter, watchStarved } from '../streams.js';
import { nameMatches, type Vault } from '../vault.js';
import { type FetchComponents, type FetchOutcome, reportCorrupt } from './peer-fetch.js';
import type { PlainRange } from './plain-source.js';
import type { RangeBuffers } from './range-buffers.js';

/** A range fetched, every record's tag verified: its sealed records (plaintext is plainOf's). */
export interface FetchedRange {
  range: PlainRange;
  /** The sealed records as received, without the header (a local copy is these, range by range). */
  sealed: Buffer;
  /** The pool's buffer `sealed` is a view of: given back once the range is sent. */
  buffers: Buffer[];
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

/** Splits the first HEADER_SIZE bytes off a sealed stream and copies the rest into `into`. */
class KeepSealed extends Transform {
  readonly header = Buffer.alloc(HEADER_SIZE);
  readonly #into: Buffer;
  #fill = 0;
  length = 0;

  constructor(into: Buffer) {
    super();
    this.#into = into;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    let body = chunk;
    if (this.#fill < HEADER_SIZE) {
      const n = Math.min(HEADER_SIZE - this.#fill, chunk.length);
      chunk.copy(this.header, this.#fill, 0, n);
      this.#fill += n;
      body = chunk.subarray(n);
    }
    // a copy, not a reference: a kept view would pin the transport's read buffer (and the other
    // streams' bytes in it) until the range is sent, long enough to reach the old generation
    if (this.length + body.length > this.#into.length) {
      callback(new IntegrityError('a holder sent more than the records of the range'));
      return;
    }
    body.copy(this.#into, this.length);
    this.length += body.length;
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
  pool: RangeBuffers,
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
      // plaintext held as well would double a range's memory: it is decrypted when sent
      const sealed = pool.take(sealedRange(range, range.plainSize, chunkSize).body.length);
      const keep = new KeepSealed(sealed);
      const checker = openRange(vault.vaultKey, { ...range, pass: 'check' });
      // whichever fails first: the peer's stream (stall, reset) or a record's tag; on a failure
      // the buffer is left to the collector (a late write may still land in it)
      await Promise.all([pipeline(stream, meter, keep, checker), checker.toArray()]);
      return {
        range,
        sealed: sealed.subarray(0, keep.length),
        buffers: [sealed],
        header: keep.header,
        extra,
        chunkSize,
      };
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

/**
 * The plaintext of a fetched range, decrypted from its records (verified when they arrived and
 * held since), in pieces of at most `piece` bytes; each piece is a new buffer.
 */
export async function* plainOf(
  vaultKey: Uint8Array,
  got: FetchedRange,
  piece: number,
): AsyncGenerator<Buffer> {
  const opener = openRange(vaultKey, { ...got.range, pass: 'decrypt' });
  opener.write(got.header);
  for (let at = 0; at < got.sealed.length; at += piece) {
    opener.write(got.sealed.subarray(at, at + piece));
  }
  opener.end();
  for await (const p of opener) yield p as Buffer;
}
