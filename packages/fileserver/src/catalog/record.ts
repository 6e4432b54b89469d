// The catalog record of one file version (or its deletion), its canonical CBOR form, strict
// validation of records received, and the merge rule every node applies the same way.

import { createHash } from 'node:crypto';
import { deriveFileId, openBytes, sealBytes, sealedSize } from '@peerstash/crypto';
import { MAX_KEY_BYTES } from '../file-key.js';
import { bytes, decode, encode, int, toUint } from './codec.js';
import { BadRecordError } from './errors.js';
import { compareHlc, type Hlc, MAX_COUNTER, MAX_WALL } from './hlc.js';

export const RECORD_FORMAT = 1;
/** Attributes are a small sealed map for front ends (content type, user metadata, an S3 ETag). */
export const MAX_ATTRIBUTES_BYTES = 4096;
const MAX_ATTRIBUTES = 64;
const MAX_ATTRIBUTE_NAME = 128;
/** A sealed key or attribute map of n bytes is n + 86 bytes (one final record). */
export const MAX_SEALED_NAME = sealedSize(MAX_KEY_BYTES);
export const MAX_SEALED_ATTRIBUTES = sealedSize(MAX_ATTRIBUTES_BYTES);
/** The largest encoded record (both seals at their maximum, every field at its widest). */
export const MAX_RECORD_BYTES = MAX_SEALED_NAME + MAX_SEALED_ATTRIBUTES + 256;
const HEX64 = /^[0-9a-f]{64}$/;

export type AttributeValue = string | number | boolean | Uint8Array;
export type Attributes = Record<string, AttributeValue>;

export interface CatalogRecord {
  /** Namespace (64 hex, derived from the vault key). */
  ns: string;
  /** File id (64 hex): deriveFileId(vaultKey, key), the hashed key the node stores blobs under. */
  id: string;
  hlc: Hlc;
  /** The key sealed under the vault key: the same bytes as base64 in a blob's meta `extra.name`. */
  name: Uint8Array;
  /** A tombstone: the file is gone as of `hlc`; older versions never come back. */
  deleted: boolean;
  /** The sealed blob's SHA-256 (64 hex); absent on a tombstone. */
  version?: string;
  /** Plaintext and sealed bytes; 0 on a tombstone. */
  size: number;
  sealedSize: number;
  /** Sealed attributes (CBOR map ≤ 4 KiB before sealing), if the writer gave any. */
  attrs?: Uint8Array;
}

export interface Vault {
  key: Uint8Array;
  ns: string;
}

const hex = (s: string) => Buffer.from(s, 'hex');

/** The fields after ns and id, in their one fixed order (so equal records encode equally). */
function bodyFields(r: CatalogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    v: RECORD_FORMAT,
    t: int(r.hlc.wall),
    c: r.hlc.counter,
    n: hex(r.hlc.node),
    name: bytes(r.name),
  };
  if (r.deleted) {
    out.del = true;
    return out;
  }
  out.ver = hex(r.version as string);
  out.size = int(r.size);
  out.ssize = int(r.sealedSize);
  if (r.attrs) out.attrs = bytes(r.attrs);
  return out;
}

/** The canonical wire form: what travels, what is hashed. */
export function encodeRecord(r: CatalogRecord): Buffer {
  return encode({ ns: hex(r.ns), id: hex(r.id), ...bodyFields(r) });
}

/** The stored form: the wire form without ns and id (they are the database key). */
export function encodeRecordBody(r: CatalogRecord): Buffer {
  return encode(bodyFields(r));
}

/**
 * SHA-256 of ns | id | the canonical body: two nodes holding the same record hold the same hash.
 * Pass the body when it is at hand (a store encodes it once for both).
 */
export function recordHash(r: CatalogRecord, body: Uint8Array = encodeRecordBody(r)): Buffer {
  return createHash('sha256').update(hex(r.ns)).update(hex(r.id)).update(body).digest();
}

function bad(what: string): never {
  throw new BadRecordError(`bad catalog record: ${what}`);
}

function hex32(v: unknown, what: string): string {
  if (!(v instanceof Uint8Array) || v.length !== 32) bad(`${what} must be 32 bytes`);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

function uintField(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = toUint(v);
  if (n === undefined || n > max) bad(what);
  return n;
}

function sealedField(v: unknown, what: string, max: number): Uint8Array {
  // the smallest seal is an empty final record: header + tag
  if (!(v instanceof Uint8Array) || v.length < 86 || v.length > max) bad(what);
  return Buffer.from(v);
}

/** Whether some allowed chunk size seals `size` bytes to exactly `sealed` bytes. */
export function isSealedSizeOf(size: number, sealed: number): boolean {
  for (let log2 = 6; log2 <= 24; log2++) if (sealedSize(size, 2 ** log2) === sealed) return true;
  return false;
}

const WIRE_KEYS = new Set([
  'v',
  'ns',
  'id',
  't',
  'c',
  'n',
  'name',
  'del',
  'ver',
  'size',
  'ssize',
  'attrs',
]);

function fromFields(m: Record<string, unknown>, ns: string, id: string): CatalogRecord {
  if (m.v !== RECORD_FORMAT) bad(`unknown format ${String(m.v)}`);
  for (const k of Object.keys(m)) if (!WIRE_KEYS.has(k)) bad(`unknown field ${k.slice(0, 20)}`);
  const hlc: Hlc = {
    wall: uintField(m.t, 'clock wall', MAX_WALL),
    counter: uintField(m.c, 'clock counter', MAX_COUNTER),
    node: hex32(m.n, 'clock node'),
  };
  const name = sealedField(m.name, 'name', MAX_SEALED_NAME);
  if (m.del !== undefined) {
    if (m.del !== true) bad('del');
    if (
      m.ver !== undefined ||
      m.size !== undefined ||
      m.ssize !== undefined ||
      m.attrs !== undefined
    ) {
      bad('a tombstone carries no version');
    }
    return { ns, id, hlc, name, deleted: true, size: 0, sealedSize: 0 };
  }
  const size = uintField(m.size, 'size');
  const sealed = uintField(m.ssize, 'sealed size');
  if (!isSealedSizeOf(size, sealed)) bad('sealed size does not fit the size');
  const out: CatalogRecord = {
    ns,
    id,
    hlc,
    name,
    deleted: false,
    version: hex32(m.ver, 'version'),
    size,
    sealedSize: sealed,
  };
  if (m.attrs !== undefined) out.attrs = sealedField(m.attrs, 'attrs', MAX_SEALED_ATTRIBUTES);
  return out;
}

function asMap(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    bad('not a map');
  }
  return v as Record<string, unknown>;
}

/** Validates a record received from a peer; throws BadRecordError (ERR_BAD_RECORD) on anything else. */
export function decodeRecord(encoded: Uint8Array): CatalogRecord {
  if (encoded.length > MAX_RECORD_BYTES) bad('too large');
  const m = asMap(decode(encoded, 'catalog record'));
  return fromFields(m, hex32(m.ns, 'ns'), hex32(m.id, 'id'));
}

/** Reads a stored body back (the database is ours, but a torn or foreign file must not pass). */
export function decodeRecordBody(ns: string, id: string, body: Uint8Array): CatalogRecord {
  const m = asMap(decode(body, 'stored catalog record'));
  if (m.ns !== undefined || m.id !== undefined) bad('stored body carries ns/id');
  return fromFields(m, ns, id);
}

/**
 * The merge rule: > 0 when `a` wins over `b` (two records of the same ns and id). The later clock
 * wins; on equal clocks (one writer, one instant: a corrupt or hostile copy) a tombstone, then the
 * larger hash, so every node still picks the same one. A tombstone thus hides every version older
 * than itself, wherever they arrive from; only a newer put brings the key back.
 */
export function compareRecords(a: CatalogRecord, b: CatalogRecord): number {
  const byClock = compareHlc(a.hlc, b.hlc);
  if (byClock !== 0) return byClock;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return Buffer.compare(recordHash(a), recordHash(b));
}

/** Seals a key for a record: the scheme the node already uses for meta `extra.name`. */
export function sealName(vaultKey: Uint8Array, key: string): Buffer {
  return sealBytes(vaultKey, Buffer.from(key, 'utf8'));
}

/** The sealed name as it sits in a blob's metadata (`extra.name`, base64). */
export function sealedNameFromExtra(name: string): Buffer {
  return Buffer.from(name, 'base64');
}

/** Opens a record's name and checks that it is the key of `id`; else BadRecordError. */
export function openName(vaultKey: Uint8Array, r: Pick<CatalogRecord, 'name' | 'id'>): string {
  let key: string;
  try {
    key = openBytes(vaultKey, r.name).toString('utf8');
  } catch (err) {
    throw new BadRecordError('record name does not open under the vault key', { cause: err });
  }
  if (deriveFileId(vaultKey, key) !== r.id) bad('name does not derive the file id');
  return key;
}

function checkAttributes(attrs: Attributes): Buffer {
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) bad('attributes');
  const names = Object.keys(attrs);
  if (names.length > MAX_ATTRIBUTES) bad(`more than ${MAX_ATTRIBUTES} attributes`);
  const clean: Record<string, unknown> = {};
  for (const k of names.sort()) {
    const v = attrs[k];
    if (k.length === 0 || k.length > MAX_ATTRIBUTE_NAME) bad('attribute name');
    if (typeof v === 'string' || typeof v === 'boolean') clean[k] = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) {
      clean[k] = Math.abs(v) > 0xffffffff ? BigInt(v) : v;
    } else if (v instanceof Uint8Array) clean[k] = bytes(v);
    else bad(`attribute ${k.slice(0, 40)}`);
  }
  const encoded = encode(clean);
  if (encoded.length > MAX_ATTRIBUTES_BYTES) bad(`attributes over ${MAX_ATTRIBUTES_BYTES} bytes`);
  return encoded;
}

/** Seals an attribute map (≤ 4 KiB of CBOR); BadRecordError when too large or not a flat map. */
export function sealAttributes(vaultKey: Uint8Array, attrs: Attributes): Buffer {
  return sealBytes(vaultKey, checkAttributes(attrs));
}

export function openAttributes(vaultKey: Uint8Array, sealed: Uint8Array): Attributes {
  let plain: Buffer;
  try {
    plain = openBytes(vaultKey, sealed);
  } catch (err) {
    throw new BadRecordError('attributes do not open under the vault key', { cause: err });
  }
  const m = asMap(decode(plain, 'attributes'));
  const out: Attributes = {};
  for (const [k, v] of Object.entries(m)) {
    const n =
      typeof v === 'bigint' &&
      v >= BigInt(Number.MIN_SAFE_INTEGER) &&
      v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    if (typeof n === 'string' || typeof n === 'boolean' || typeof n === 'number') out[k] = n;
    else if (n instanceof Uint8Array) out[k] = Buffer.from(n);
    else bad(`attribute ${k.slice(0, 40)}`);
  }
  return out;
}

export interface PutFacts {
  key: string;
  /** SHA-256 of the sealed blob (64 hex). */
  version: string;
  size: number;
  sealedSize: number;
  hlc: Hlc;
  attributes?: Attributes;
}

/** A new version of `key`, sealed for the catalog. */
export function makePutRecord(vault: Vault, facts: PutFacts): CatalogRecord {
  if (!HEX64.test(facts.version)) bad('version must be 64 lowercase hex');
  if (!isSealedSizeOf(facts.size, facts.sealedSize)) bad('sealed size does not fit the size');
  const record: CatalogRecord = {
    ns: vault.ns,
    id: deriveFileId(vault.key, facts.key),
    hlc: facts.hlc,
    name: sealName(vault.key, facts.key),
    deleted: false,
    version: facts.version,
    size: facts.size,
    sealedSize: facts.sealedSize,
  };
  if (facts.attributes && Object.keys(facts.attributes).length > 0) {
    record.attrs = sealAttributes(vault.key, facts.attributes);
  }
  return record;
}

/** A tombstone for `key` as of `hlc`. */
export function makeTombstone(vault: Vault, key: string, hlc: Hlc): CatalogRecord {
  return {
    ns: vault.ns,
    id: deriveFileId(vault.key, key),
    hlc,
    name: sealName(vault.key, key),
    deleted: true,
    size: 0,
    sealedSize: 0,
  };
}
