// The HELLO frame's payload: what each side announces about itself, encoded and checked.
// Its id and listen address end up in peer lists, so they meet the same rules as a `peers` entry.

import { ProtocolError, UnsupportedVersionError } from './errors.js';
import { decodeCbor, encodeCbor } from './message-codec.js';
import { isNodeId, isPeerAddress } from './peer-fields.js';

export const PROTOCOL_VERSION = 1;
const MAGIC = 'peerstash';
/** 8 random bytes in hex, as `localHello()` makes them. */
const NONCE = /^[0-9a-f]{16}$/;

/** What each side tells the other in its HELLO frame. */
export interface Hello {
  version: number;
  id: string;
  listen: string | undefined;
  /** Random per connection; breaks ties between duplicate links the same way on both ends. */
  nonce: string;
  /** The sender's per-stream receive window: the initial credit of streams towards it. */
  window: number;
  /** The sender's largest accepted DATA frame. */
  maxFrame: number;
  /** Streams the sender accepts at once from this side. */
  maxStreams: number;
}

export function encodeHello(h: Hello): Buffer {
  return encodeCbor({
    magic: MAGIC,
    v: h.version,
    id: h.id,
    listen: h.listen ?? null,
    nonce: h.nonce,
    window: h.window,
    maxFrame: h.maxFrame,
    maxStreams: h.maxStreams,
  });
}

export function parseHello(payload: Buffer): Hello {
  const h = decodeCbor(payload);
  if (h.magic !== MAGIC)
    throw new ProtocolError('HELLO from something that is not a peerstash node');
  if (h.v !== PROTOCOL_VERSION) {
    throw new UnsupportedVersionError(
      `peer speaks protocol version ${String(h.v)}, this node speaks ${PROTOCOL_VERSION}`,
    );
  }
  const int = (v: unknown, min: number, max: number) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  // Held to the same rules as a `peers` entry: whatever a HELLO announces ends up in peer lists.
  if (!isNodeId(h.id)) throw new ProtocolError('HELLO: node id is not 64 lowercase hex');
  if (h.listen !== null && h.listen !== undefined && !isPeerAddress(h.listen)) {
    throw new ProtocolError('HELLO: listen is not a dialable host:port');
  }
  if (typeof h.nonce !== 'string' || !NONCE.test(h.nonce)) {
    throw new ProtocolError('HELLO: nonce is not 16 lowercase hex');
  }
  if (!int(h.window, 1024, 64 * 1024 * 1024)) throw new ProtocolError('HELLO: bad window');
  if (!int(h.maxFrame, 1024, 16 * 1024 * 1024)) throw new ProtocolError('HELLO: bad max frame');
  if (!int(h.maxStreams, 1, 65_536)) throw new ProtocolError('HELLO: bad max streams');
  return {
    version: h.v,
    id: h.id as string,
    listen: (h.listen as string | null | undefined) ?? undefined,
    nonce: h.nonce as string,
    window: h.window as number,
    maxFrame: h.maxFrame as number,
    maxStreams: h.maxStreams as number,
  };
}
