// CBOR codec for messages, stream headers and the handshake (cbor-x), in RFC 8949's preferred
// form so any strict decoder reads our bytes. Decoding untrusted bytes never throws anything but ProtocolError.

import { Encoder, type Options } from 'cbor-x';
import { InvalidArgumentError, ProtocolError } from './errors.js';

/** A message: a CBOR map with a string `type`. */
export type Message = Record<string, unknown> & { type: string };

/**
 * Records off (plain CBOR maps), map lengths in their shortest head (cbor-x otherwise always
 * writes a 2-byte one), byte strings untagged, and 64-bit integers decoded as numbers: older
 * nodes sent integers past 32 bits as float64, which decodes to the same number.
 */
const options: Options & { int64AsNumber: boolean } = {
  useRecords: false,
  variableMapSize: true,
  tagUint8Array: false,
  int64AsNumber: true, // a documented cbor-x option its typings lack
};
const codec = new Encoder(options);

const U32 = 0x1_0000_0000;

/**
 * cbor-x writes a number past 32 bits as a float64 even when it is an integer (a millisecond
 * time): such integers go in as BigInt, which it writes as a CBOR integer (major type 0 or 1).
 * Copies only the containers on the way to one; everything else is passed through as it is.
 */
function integersAsIntegers(value: unknown, depth = 0): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value >= U32 || value < -U32) ? BigInt(value) : value;
  }
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = integersAsIntegers(value[i], depth + 1);
      if (v === value[i]) continue;
      out ??= value.slice();
      out[i] = v;
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, item] of Object.entries(value)) {
    const v = integersAsIntegers(item, depth + 1);
    if (v === item) continue;
    out ??= { ...(value as Record<string, unknown>) };
    // defineProperty: an own `__proto__` key stays a key rather than setting a prototype
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out ?? value;
}

export function encodeCbor(value: Record<string, unknown>): Buffer {
  try {
    return codec.encode(integersAsIntegers(value));
  } catch (err) {
    throw new InvalidArgumentError('value cannot be encoded as CBOR', { cause: err });
  }
}

/** Decodes one CBOR map; anything else (or trailing bytes, or a bad encoding) is a ProtocolError. */
export function decodeCbor(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = codec.decode(bytes);
  } catch (err) {
    throw new ProtocolError('invalid CBOR', { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Map) {
    throw new ProtocolError('CBOR value is not a map with string keys');
  }
  if (ArrayBuffer.isView(value)) throw new ProtocolError('CBOR value is not a map');
  return value as Record<string, unknown>;
}

export function encodeMessage(message: Message): Buffer {
  if (message === null || typeof message !== 'object' || typeof message.type !== 'string') {
    throw new InvalidArgumentError('a message is an object with a string `type`');
  }
  return encodeCbor(message);
}

export function decodeMessage(bytes: Uint8Array): Message {
  const value = decodeCbor(bytes);
  if (typeof value.type !== 'string') throw new ProtocolError('message has no string `type`');
  return value as Message;
}
