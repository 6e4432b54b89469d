// Reading a file: the local copy opened at once (verified chunk by chunk), else the first peer's
// stream; a copy that goes bad mid-way is continued from the next one (failover.ts).

import { Readable } from 'node:stream';
import type { BlobMeta } from '@peerstash/cas-store';
import { CODES, errorCode } from '../errors.js';
import { abortError } from '../lifecycle.js';
import { fileOf, type Vault } from '../vault.js';
import { failover } from './failover.js';
import { reportCorrupt } from './peer-fetch.js';
import { openLocal, type PlainSource } from './plain-source.js';
import { nextSource, type SourceComponents, type SourceRequest } from './sources.js';

export interface ReadResult {
  /** Plaintext, verified chunk by chunk as it is read. */
  stream: Readable;
  size: number;
  digest: string;
  /** Where the sealed blob came from: this node's disk or a peer. */
  source: 'local' | 'peer';
}

export interface ReadComponents extends SourceComponents {
  vault: Vault | undefined;
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
  signal: AbortSignal | undefined,
): Promise<ReadResult> {
  const { vault, id } = fileOf(c.vault, key);
  if (signal?.aborted) throw abortError(signal);
  const started = performance.now();
  const { ns, vaultKey } = vault;
  const req: SourceRequest = { vault, key, id, tried: new Set(), signal };
  let src: PlainSource | undefined;
  let rotten = false;
  if (await localMeta(c, ns, id)) {
    try {
      src = await openLocal(c.cas, vaultKey, ns, id);
    } catch (err) {
      if (errorCode(err) !== CODES.INTEGRITY) throw err;
      noteLocalRot(c, id, err);
      rotten = true;
    }
  }
  src ??= await nextSource(c, req, undefined, rotten);
  const plaintext = failover(src, rotten, {
    next: (digest, corrupt) => nextSource(c, req, digest, corrupt),
    mayContinue: () => c.life.live() && !signal?.aborted,
    broken: (cur, err) => {
      const code = errorCode(err);
      if (cur.origin === 'local') {
        noteLocalRot(c, id, err);
        return;
      }
      req.tried.add(cur.peerId!);
      if (code === CODES.INTEGRITY) reportCorrupt(c, cur.peerId!, ns, id, 'bad chunk');
      else c.log.info({ peer: cur.peerId, code }, 'fetch broke off; trying another peer');
    },
    done: () =>
      c.metrics.transferDuration.observe({ op: 'get' }, (performance.now() - started) / 1000),
  });
  const stream = Readable.from(plaintext, { objectMode: false, highWaterMark: 256 * 1024 });
  if (signal) {
    const onAbort = () => stream.destroy(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  c.metrics.gets.inc({ source: src.origin });
  return { stream, size: src.size, digest: src.digest, source: src.origin };
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
