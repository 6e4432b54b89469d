// CBOR codec for messages, stream headers and the handshake (cbor-x, records off so any
// CBOR decoder can read our bytes). Decoding untrusted bytes never throws anything but ProtocolError.

import { Encoder } from 'cbor-x';
import { InvalidArgumentError, ProtocolError } from './errors.js';

/** A message: a CBOR map with a string `type`. */
export type Message = Record<string, unknown> & { type: string };

const codec = new Encoder({ useRecords: false });

export function encodeCbor(value: Record<string, unknown>): Buffer {
  try {
    return codec.encode(value);
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
