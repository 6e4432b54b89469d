// The one CBOR codec of the catalog (records, attributes, index values): cbor-x with records off,
// so any CBOR decoder reads our bytes, integers always as CBOR integers and bytes as byte strings.

import { Encoder } from 'cbor-x';
import { BadRecordError } from './errors.js';

const codec = new Encoder({ useRecords: false, mapsAsObjects: true });

export function encode(value: unknown): Buffer {
  return codec.encode(value);
}

/** Decodes untrusted bytes; anything malformed (or trailing bytes) is BadRecordError. */
export function decode(bytes: Uint8Array, what: string): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new BadRecordError(`${what} is not valid CBOR`, { cause: err });
  }
}

/**
 * An integer as cbor-x should write it: a number up to 32 bits, a bigint above (cbor-x writes a
 * number past 2^32 as a float64; a bigint becomes the 8-byte integer, the shortest form there).
 */
export function int(n: number): number | bigint {
  return n > 0xffffffff ? BigInt(n) : n;
}

/** A non-negative safe integer read back (a number, or a bigint from a 64-bit integer); else undefined. */
export function toUint(v: unknown): number | undefined {
  if (typeof v === 'bigint')
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n ? Number(v) : undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return undefined;
}

/** Bytes for the encoder: a Buffer view, since cbor-x tags a plain Uint8Array as a typed array. */
export function bytes(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
