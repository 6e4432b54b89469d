// Incremental, bounded decoder: bytes in, complete frames out. Limits are checked on the header,
// before any payload is buffered; DATA payloads are passed through as pieces without copying.

import { ProtocolError } from './errors.js';
import {
  FRAME_HEADER_SIZE,
  type Frame,
  FrameType,
  type FrameTypeValue,
  frameTypeName,
  MAX_CONTROL_PAYLOAD,
  MAX_RESET_PAYLOAD,
  PING_PAYLOAD,
  WINDOW_PAYLOAD,
} from './frame.js';

export interface FrameDecoderLimits {
  /** Largest DATA frame payload. */
  maxFrameSize: number;
  /** Largest MSG or OPEN payload (a CBOR object). */
  maxMessageSize: number;
}

interface Pending {
  type: FrameTypeValue;
  streamId: number;
  remaining: number;
  parts: Buffer[];
}

export class FrameDecoder {
  private readonly limits: FrameDecoderLimits;
  private readonly header = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFill = 0;
  private pending: Pending | undefined;

  constructor(limits: FrameDecoderLimits) {
    this.limits = limits;
  }

  /** Bytes held for an incomplete frame (header, or a non-DATA payload): bounded by the limits. */
  get bufferedBytes(): number {
    let n = this.headerFill;
    if (this.pending) for (const p of this.pending.parts) n += p.byteLength;
    return n;
  }

  /** Feeds bytes; returns the frames (and DATA pieces) they complete. Throws ProtocolError. */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let offset = 0;
    const end = chunk.byteLength;
    while (offset < end) {
      const pending = this.pending;
      if (pending === undefined) {
        let type: number;
        let streamId: number;
        let length: number;
        if (this.headerFill === 0 && end - offset >= FRAME_HEADER_SIZE) {
          type = chunk[offset]!;
          streamId = chunk.readUInt32BE(offset + 1);
          length = chunk.readUInt32BE(offset + 5);
          offset += FRAME_HEADER_SIZE;
        } else {
          const n = Math.min(FRAME_HEADER_SIZE - this.headerFill, end - offset);
          chunk.copy(this.header, this.headerFill, offset, offset + n);
          this.headerFill += n;
          offset += n;
          if (this.headerFill < FRAME_HEADER_SIZE) break;
          this.headerFill = 0;
          type = this.header[0]!;
          streamId = this.header.readUInt32BE(1);
          length = this.header.readUInt32BE(5);
        }
        this.check(type, streamId, length);
        if (length === 0) {
          if (type !== FrameType.DATA) {
            out.push({ type: type as FrameTypeValue, streamId, payload: Buffer.alloc(0) });
          }
          continue;
        }
        this.pending = { type: type as FrameTypeValue, streamId, remaining: length, parts: [] };
        continue;
      }
      const n = Math.min(pending.remaining, end - offset);
      const piece = chunk.subarray(offset, offset + n);
      offset += n;
      pending.remaining -= n;
      if (pending.type === FrameType.DATA) {
        out.push({ type: pending.type, streamId: pending.streamId, payload: piece });
      } else {
        pending.parts.push(piece);
        if (pending.remaining === 0) {
          const payload =
            pending.parts.length === 1 ? pending.parts[0]! : Buffer.concat(pending.parts);
          out.push({ type: pending.type, streamId: pending.streamId, payload });
        }
      }
      if (pending.remaining === 0) this.pending = undefined;
    }
    return out;
  }

  private check(type: number, streamId: number, length: number): void {
    const fail = (why: string): never => {
      throw new ProtocolError(
        `bad ${frameTypeName(type)} frame (stream ${streamId}, ${length} bytes): ${why}`,
      );
    };
    const onStream = (want: boolean) => {
      if (want && streamId === 0) fail('stream id 0');
      if (!want && streamId !== 0) fail('stream id must be 0');
    };
    switch (type) {
      case FrameType.MSG:
        onStream(false);
        if (length > this.limits.maxMessageSize) fail('message too large');
        if (length === 0) fail('empty message');
        return;
      case FrameType.OPEN:
        onStream(true);
        if (length > this.limits.maxMessageSize) fail('header too large');
        return;
      case FrameType.DATA:
        onStream(true);
        if (length > this.limits.maxFrameSize) fail('frame too large');
        return;
      case FrameType.END:
        onStream(true);
        if (length !== 0) fail('END carries no payload');
        return;
      case FrameType.RESET:
        onStream(true);
        if (length > MAX_RESET_PAYLOAD) fail('reset code too long');
        return;
      case FrameType.WINDOW:
        onStream(true);
        if (length !== WINDOW_PAYLOAD) fail('window payload must be 4 bytes');
        return;
      case FrameType.PING:
      case FrameType.PONG:
        onStream(false);
        if (length !== PING_PAYLOAD) fail('ping payload must be 8 bytes');
        return;
      case FrameType.HELLO:
      case FrameType.GOAWAY:
        onStream(false);
        if (length > MAX_CONTROL_PAYLOAD) fail('control frame too large');
        return;
      default:
        fail('unknown frame type');
    }
  }
}
