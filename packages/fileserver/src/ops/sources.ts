// Source selection of the read path: which copy of a file to read next. Today the peers in
// rendezvous order (placement peers first, then everyone), each asked once per read.

import { IntegrityError, NotFoundError } from '../errors.js';
import { abortError } from '../lifecycle.js';
import { rankNodes } from '../placement.js';
import type { Vault } from '../vault.js';
import { type FetchComponents, fetchFromPeer } from './peer-fetch.js';
import type { PlainRange, PlainSource } from './plain-source.js';

export interface SourceComponents extends FetchComponents {
  peerIds(): string[];
}

/** What one read asks for and has tried so far (shared by every call of the same read). */
export interface SourceRequest {
  vault: Vault;
  key: string;
  id: string;
  /** Peers already tried (or broken off) in this read; each is asked once. */
  tried: Set<string>;
  /** The version the catalog names current: no other will do. */
  want: string | undefined;
  /** A ranged read: only these plaintext bytes. */
  range: PlainRange | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Opens (ns, id) from the first peer that has it, skipping peers already tried. A peer without it
 * answers at once, so a miss costs one round trip per peer. With `wantDigest`, only that exact
 * blob will do. None left: ERR_INTEGRITY when a copy failed verification (`corrupt`), else
 * ERR_NOT_FOUND.
 */
export async function nextSource(
  c: SourceComponents,
  req: SourceRequest,
  wantDigest: string | undefined,
  corrupt: boolean,
): Promise<PlainSource> {
  const { key, id, tried, signal, range } = req;
  const want = wantDigest ?? req.want;
  let bad = corrupt;
  for (const peerId of rankNodes(id, c.peerIds())) {
    if (tried.has(peerId)) continue;
    if (signal?.aborted) throw abortError(signal);
    const r = await fetchFromPeer(c, peerId, {
      vault: req.vault,
      key,
      id,
      wantDigest: want,
      range,
      signal,
    });
    if (typeof r === 'object') return r;
    tried.add(peerId);
    if (r === 'corrupt') bad = true;
  }
  if (bad) throw new IntegrityError(`no sound copy of ${key} is left`);
  if (req.want) throw new NotFoundError(`no reachable node holds the current version of ${key}`);
  throw new NotFoundError(`no such file: ${key}`);
}
