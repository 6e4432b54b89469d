// How a CID maps onto the store: blocks are keyed by multihash (as every js-stores blockstore is),
// the full CID is kept in the metadata so getAll can hand back the CID that was put.

import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { InvalidArgumentError } from '../errors.js';
import type { BlobMeta } from '../meta.js';

const SHA2_256 = 0x12;
const RAW = 0x55;
const HEX = /^(?:[0-9a-f]{2})+$/;

/** The parts of a CID the store reads; any multiformats version's CID has them. */
export interface CidLike {
  readonly bytes: Uint8Array;
  readonly multihash: {
    readonly code: number;
    readonly digest: Uint8Array;
    readonly bytes: Uint8Array;
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function assertCid(cid: unknown): asserts cid is CidLike {
  const c = cid as Partial<CidLike> | null;
  if (
    c === null ||
    typeof c !== 'object' ||
    !(c.bytes instanceof Uint8Array) ||
    !(c.multihash?.bytes instanceof Uint8Array) ||
    !(c.multihash.digest instanceof Uint8Array) ||
    typeof c.multihash.code !== 'number' ||
    c.multihash.bytes.byteLength === 0
  ) {
    throw new InvalidArgumentError('key must be a CID');
  }
}

/** The store key of a block: the hex of its CID's multihash, so CIDv0 and v1 of one hash meet. */
export function blockKey(cid: unknown): string {
  assertCid(cid);
  return hex(cid.multihash.bytes);
}

/** What the metadata records of a put: the CID as given, as hex bytes. */
export function cidRecord(cid: CidLike): { cid: string } {
  return { cid: hex(cid.bytes) };
}

/**
 * The SHA-256 hex the bytes must have when the CID says sha2-256, which cas-store checks while it
 * writes; undefined for other hash functions (identity, blake3, sha2-512), which go unchecked.
 */
export function expectedSha256(cid: CidLike): string | undefined {
  const { code, digest } = cid.multihash;
  return code === SHA2_256 && digest.byteLength === 32 ? hex(digest) : undefined;
}

/**
 * The CID of a stored block: the one recorded at put time, or, for metadata that lacks it, a CIDv1
 * raw over the multihash in the key. Undefined if neither decodes to this key's multihash.
 */
export function cidOf(meta: BlobMeta): CID | undefined {
  const recorded = meta.extra?.cid;
  if (typeof recorded === 'string') {
    try {
      const cid = CID.decode(Buffer.from(recorded, 'hex'));
      if (hex(cid.multihash.bytes) === meta.key) return cid;
    } catch {
      // fall through to the key
    }
  }
  if (!HEX.test(meta.key)) return undefined;
  try {
    return CID.createV1(RAW, Digest.decode(Buffer.from(meta.key, 'hex')));
  } catch {
    return undefined;
  }
}
