// Reading a file: the local copy opened at once (verified chunk by chunk), else the first peer's
// stream; a copy that goes bad mid-way is continued from the next one (failover.ts).

import { Readable } from 'node:stream';
import type { BlobMeta } from '@peerstash/cas-store';
import type { Catalog } from '../catalog/catalog.js';
import { type Attributes, openAttributes } from '../catalog/record.js';
import { CODES, errorCode, NotFoundError } from '../errors.js';
import { plainSizeOfBlob } from '../file-key.js';
import { type ByteRange, type RangeSpec, resolveRange } from '../http/byte-range.js';
import { abortError } from '../lifecycle.js';
import { cryptoOf } from '../node-crypto.js';
import { fileOf, type Vault } from '../vault.js';
import { failover } from './failover.js';
import { openSeveral, readsFromSeveral } from './multi-source.js';
import { reportCorrupt } from './peer-fetch.js';
import { openLocal, type PlainRange, type PlainSource } from './plain-source.js';
import { nextSource, type SourceComponents, type SourceRequest } from './sources.js';

export interface ReadResult {
  /** Plaintext (of the range, if one was asked), verified chunk by chunk as it is read. */
  stream: Readable;
  /** The whole file's plaintext size. */
  size: number;
  /** With a range asked: the bytes the stream carries. */
  range?: ByteRange;
  digest: string;
  /** Where the sealed blob came from: this node's disk or a peer. */
  source: 'local' | 'peer';
  /** The attributes stored with this version ({} when none, or when it has no record yet). */
  attributes: Attributes;
  /** When this version was written (its catalog clock, ms); absent without a record. */
  modified?: number;
}

export interface ReadComponents extends SourceComponents {
  vault: Vault | undefined;
  catalog: Catalog;
}

export interface ReadOptions {
  signal?: AbortSignal | undefined;
  /** Only these bytes (an HTTP Range); past the end is ERR_RANGE_NOT_SATISFIABLE. */
  range?: RangeSpec | undefined;
}

/**
 * The plaintext of `key` with its size, sealed digest and origin.
 *
 * A local copy is opened straight away (every chunk HMAC-verified before release) rather than
 * re-hashed first. Without one, the first peer that has the blob streams it; its bytes are
 * opened for the caller and written to the local store at the same time (committed only if
 * they match the peer's digest). If the copy being read goes bad mid-way (a rotten chunk, a peer
 * that dies or stalls), the next copy with the same digest takes over at the same plaintext
 * byte, so the caller gets the right bytes, each once, and a rotten local copy is replaced.
 */
export async function readFile(
  c: ReadComponents,
  key: string,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const { signal } = options;
  const { vault, id } = fileOf(c.vault, key);
  if (signal?.aborted) throw abortError(signal);
  const started = performance.now();
  const { ns, vaultKey } = vault;
  // the catalog names the current version: a deleted file is gone, and only that blob will do
  const record = c.catalog.get(ns, id);
  // a held-back record (see DESIGN.md, quarantine) is not the file until it is confirmed
  if (record?.deleted || (!record && c.catalog.isQuarantined(ns, id))) {
    throw new NotFoundError(`no such file: ${key}`);
  }
  const ranged = (size: number): PlainRange | undefined =>
    options.range ? { ...resolveRange(options.range, size), plainSize: size } : undefined;
  const req: SourceRequest = {
    vault,
    key,
    id,
    tried: new Set(),
    want: record?.version,
    range: record ? ranged(record.size) : undefined,
    signal,
  };
  let src: PlainSource | undefined;
  let rotten = false;
  const meta = await localMeta(c, ns, id);
  if (meta && (!record || meta.digest === record.version)) {
    // a file without a record yet (its put not committed) is sized by the copy read
    if (!record) req.range = ranged(plainSizeOfBlob(meta));
    try {
      src = await openLocal(c.cas, cryptoOf(c), vaultKey, ns, id, req.want, req.range);
    } catch (err) {
      const code = errorCode(err);
      if (code === CODES.NOT_FOUND) {
        // overwritten or deleted since it was looked at: read a peer's
      } else if (code !== CODES.INTEGRITY) throw err;
      else {
        noteLocalRot(c, id, err);
        rotten = true;
      }
    }
  }
  // without a record or a local copy, a range is cut from the whole file once its size is known
  const cut = options.range !== undefined && req.range === undefined;
  if (!src && record?.version && !options.range && readsFromSeveral(c, record.size)) {
    const t = { ...req, digest: record.version, plainSize: record.size };
    src = await openSeveral(c, t).catch((err: unknown) => {
      if (signal?.aborted) throw abortError(signal);
      if (!c.life.live()) throw err;
      // every holder it asked is in req.tried: the single-source path says what is left
      if (errorCode(err) === CODES.INTEGRITY) rotten = true;
      return undefined;
    });
  }
  src ??= await nextSource(c, req, undefined, rotten);
  const range = cut ? ranged(src.size) : req.range;
  const plaintext = failover(src, rotten, {
    next: (digest, corrupt) => nextSource(c, req, digest, corrupt),
    mayContinue: () => c.life.live() && !signal?.aborted,
    broken: (cur, err) => {
      const code = errorCode(err);
      if (cur.origin === 'local') {
        noteLocalRot(c, id, err);
        return;
      }
      // several holders: each was noted (and reported) when it was given up on
      if (cur.peerId === undefined) return;
      req.tried.add(cur.peerId);
      if (code === CODES.INTEGRITY) reportCorrupt(c, cur.peerId!, ns, id, 'bad chunk');
      else c.log.info({ peer: cur.peerId, code }, 'fetch broke off; trying another peer');
    },
    done: () =>
      c.metrics.transferDuration.observe({ op: 'get' }, (performance.now() - started) / 1000),
  });
  const body = cut && range ? slice(plaintext, range) : plaintext;
  const stream = Readable.from(body, { objectMode: false, highWaterMark: 256 * 1024 });
  if (signal) {
    const onAbort = () => stream.destroy(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  c.metrics.gets.inc({ source: src.origin });
  const same = record && record.version === src.digest;
  const out: ReadResult = {
    stream,
    size: src.size,
    digest: src.digest,
    source: src.origin,
    attributes: same && record.attrs ? openAttributes(vaultKey, record.attrs) : {},
  };
  if (same) out.modified = record.hlc.wall;
  if (range) out.range = { start: range.start, end: range.end };
  return out;
}

/** Bytes [start, end] of a whole plaintext stream (then it stops reading). */
async function* slice(it: AsyncIterable<Buffer>, r: ByteRange): AsyncGenerator<Buffer> {
  let at = 0;
  for await (const chunk of it) {
    const from = Math.max(r.start - at, 0);
    const to = Math.min(r.end + 1 - at, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    at += chunk.length;
    if (at > r.end) return;
  }
}

async function localMeta(
  c: Pick<SourceComponents, 'cas'>,
  ns: string,
  id: string,
): Promise<BlobMeta | undefined> {
  return c.cas.stat(ns, id).catch((err) => {
    if (errorCode(err) === CODES.NOT_FOUND) return undefined;
    throw err;
  });
}

function noteLocalRot(c: Pick<SourceComponents, 'metrics' | 'log'>, id: string, err: unknown) {
  c.metrics.integrityFailures.inc({ source: 'local' });
  c.log.warn({ id, code: errorCode(err) }, 'local blob failed verification; reading a replica');
}
