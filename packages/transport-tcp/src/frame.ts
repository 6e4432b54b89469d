// Frame layout shared by the encoder and the decoder: `u8 type | u32 stream id | u32 length | payload`.
// Every frame has this 9-byte header; per-type payload limits are enforced before a payload is buffered.

export const FrameType = {
  /** CBOR message, stream id 0. */
  MSG: 0x01,
  /** Opens a stream; payload is the CBOR header. */
  OPEN: 0x02,
  /** Stream bytes; counts against the receiver's credit. */
  DATA: 0x03,
  /** Clean end of a stream, empty payload. */
  END: 0x04,
  /** Abort of a stream by either side; payload is an ASCII error code. */
  RESET: 0x05,
  /** Credit grant from the stream's reader; payload is a u32 byte count. */
  WINDOW: 0x06,
  /** Keep-alive probe, 8 opaque bytes echoed in PONG. */
  PING: 0x07,
  PONG: 0x08,
  /** First frame in each direction; CBOR { magic, v, id, listen, nonce, window, maxFrame, maxStreams }. */
  HELLO: 0x09,
  /** Last frame before a close; CBOR { code, reason }. */
  GOAWAY: 0x0a,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_SIZE = 9;
export const MAX_CONTROL_PAYLOAD = 4096;
export const MAX_RESET_PAYLOAD = 64;
export const PING_PAYLOAD = 8;
export const WINDOW_PAYLOAD = 4;

export interface Frame {
  type: FrameTypeValue;
  streamId: number;
  /** For DATA, a frame may arrive as several pieces; each piece is delivered on its own. */
  payload: Buffer;
}

export function frameTypeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `0x${type.toString(16)}`;
}

export function encodeHeader(type: FrameTypeValue, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  header[0] = type;
  header.writeUInt32BE(streamId, 1);
  header.writeUInt32BE(length, 5);
  return header;
}

/** A whole frame in one buffer; for small control frames, where one copy is cheaper than two writes. */
export function encodeFrame(type: FrameTypeValue, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + length);
  out[0] = type;
  out.writeUInt32BE(streamId, 1);
  out.writeUInt32BE(length, 5);
  if (payload && length > 0) out.set(payload, FRAME_HEADER_SIZE);
  return out;
}
