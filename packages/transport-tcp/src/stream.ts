// The two ends of a multiplexed byte stream: a Writable that spends the reader's credit and a
// Readable that grants credit as its consumer takes bytes, so each stream is bounded on its own.

import { Readable, Writable } from 'node:stream';
import { ProtocolError, StreamResetError, TransportError } from './errors.js';

/** What a stream needs from its link; kept narrow so streams never touch the socket. */
export interface StreamLink {
  /** Writes one DATA frame of `length` bytes made of `parts`; the payload is never copied. */
  sendData(streamId: number, parts: Uint8Array[], length: number): void;
  sendEnd(streamId: number): void;
  sendReset(streamId: number, code: string): void;
  sendWindow(streamId: number, credit: number): void;
  /** Resolves when the socket can take more bytes; rejects when the link is closed. */
  writable(): Promise<void>;
  /** Drops the stream from the link's tables (its slot is free again). */
  forget(streamId: number, inbound: boolean): void;
  /** Fails the whole link; used when the peer breaks flow control. */
  fail(err: Error): void;
}

const noop = () => {};

function resetCode(err: Error | null): string {
  const code = err && (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,60}$/.test(code) ? code : 'ERR_ABORTED';
}

export class OutboundStream extends Writable {
  readonly streamId: number;
  private readonly link: StreamLink;
  private readonly maxFrame: number;
  private credit: number;
  private creditWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private remoteReset = false;
  private ended = false;

  constructor(link: StreamLink, streamId: number, initialCredit: number, maxFrame: number) {
    super({ highWaterMark: 64 * 1024 });
    this.link = link;
    this.streamId = streamId;
    this.credit = initialCredit;
    this.maxFrame = maxFrame;
    // Failures reach callers through pipeline/'error'/write callbacks; an unobserved one must not crash.
    this.on('error', noop);
  }

  /** Bytes the reader still lets this side send. */
  get sendCredit(): number {
    return this.credit;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeChunks([chunk]).then(() => cb(), cb);
  }

  // Chunks queued while a frame was going out leave together as one frame (one header, one writev).
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ): void {
    this.writeChunks(chunks.map((c) => c.chunk)).then(() => cb(), cb);
  }

  private async writeChunks(chunks: Buffer[]): Promise<void> {
    let i = 0;
    let offset = 0;
    while (i < chunks.length) {
      if (offset === 0 && chunks[i]!.byteLength === 0) {
        i++; // an empty write needs no credit
        continue;
      }
      while (this.credit === 0) {
        await new Promise<void>((resolve, reject) => {
          this.creditWaiter = { resolve, reject };
        });
      }
      const budget = Math.min(this.credit, this.maxFrame);
      const parts: Buffer[] = [];
      let n = 0;
      while (i < chunks.length && n < budget) {
        const chunk = chunks[i]!;
        const take = Math.min(chunk.byteLength - offset, budget - n);
        parts.push(
          offset === 0 && take === chunk.byteLength ? chunk : chunk.subarray(offset, offset + take),
        );
        n += take;
        offset += take;
        if (offset === chunk.byteLength) {
          i++;
          offset = 0;
        }
      }
      this.link.sendData(this.streamId, parts, n);
      this.credit -= n;
      await this.link.writable();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      this.ended = true;
      this.link.sendEnd(this.streamId);
      this.link.forget(this.streamId, false);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const waiter = this.creditWaiter;
    this.creditWaiter = undefined;
    waiter?.reject(err ?? new StreamResetError('ERR_ABORTED'));
    if (!this.ended && !this.remoteReset) {
      this.ended = true;
      try {
        this.link.sendReset(this.streamId, resetCode(err));
      } catch {
        // The link is already gone; the reader learns it from the link loss.
      }
      this.link.forget(this.streamId, false);
    }
    cb(err);
  }

  /** WINDOW frame from the reader. */
  onWindow(credit: number): void {
    if (this.ended) return;
    this.credit += credit;
    if (this.credit > 0xffffffff) {
      this.link.fail(new ProtocolError(`stream ${this.streamId}: credit overflow`));
      return;
    }
    const waiter = this.creditWaiter;
    this.creditWaiter = undefined;
    waiter?.resolve();
  }

  /** RESET frame from the reader (it stopped reading). */
  onReset(code: string): void {
    this.remoteReset = true;
    this.link.forget(this.streamId, false);
    this.destroy(new StreamResetError(code));
  }

  /** The link went away under the stream. */
  onLinkClosed(err: Error): void {
    this.remoteReset = true;
    if (this.ended) return;
    const code = err instanceof TransportError ? err.code : 'ERR_CLOSED';
    this.destroy(
      new StreamResetError(code, `stream lost with its link: ${err.message}`, { cause: err }),
    );
  }
}

export class InboundStream extends Readable {
  readonly streamId: number;
  private readonly link: StreamLink;
  private readonly window: number;
  /** Bytes received but not yet handed to the Readable; the sender's credit bounds it by `window`. */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  /** Bytes the sender may still send before a new grant. */
  private allowance: number;
  /** Bytes handed on since the last WINDOW frame. */
  private ungranted = 0;
  private wantsData = false;
  private endReceived = false;
  private closedRemotely = false;

  constructor(link: StreamLink, streamId: number, window: number) {
    super({ highWaterMark: 64 * 1024 });
    this.link = link;
    this.streamId = streamId;
    this.window = window;
    this.allowance = window;
    this.on('error', noop);
  }

  /** Bytes held for this stream, in the queue and in the Readable's buffer. */
  get bufferedBytes(): number {
    return this.queued + this.readableLength;
  }

  onData(piece: Buffer): void {
    if (this.endReceived) {
      this.link.fail(new ProtocolError(`stream ${this.streamId}: DATA after END`));
      return;
    }
    if (piece.byteLength > this.allowance) {
      this.link.fail(new ProtocolError(`stream ${this.streamId}: sender exceeded its credit`));
      return;
    }
    this.allowance -= piece.byteLength;
    if (this.destroyed) return;
    if (this.wantsData && this.queue.length === 0) {
      // Fast path: the consumer is waiting, so the piece skips the queue.
      if (!this.push(piece)) this.wantsData = false;
      this.grant(piece.byteLength);
      return;
    }
    this.queue.push(piece);
    this.queued += piece.byteLength;
    if (this.wantsData) this.drainQueue();
  }

  onEnd(): void {
    if (this.endReceived) {
      this.link.fail(new ProtocolError(`stream ${this.streamId}: second END`));
      return;
    }
    this.endReceived = true;
    this.closedRemotely = true;
    this.link.forget(this.streamId, true);
    if (this.wantsData) this.drainQueue();
  }

  onReset(code: string): void {
    this.closedRemotely = true;
    this.link.forget(this.streamId, true);
    this.destroy(new StreamResetError(code));
  }

  onLinkClosed(err: Error): void {
    // After END the stream is complete and its queued bytes stay readable.
    if (this.closedRemotely || this.destroyed) return;
    this.closedRemotely = true;
    const code = err instanceof TransportError ? err.code : 'ERR_CLOSED';
    this.destroy(
      new StreamResetError(code, `stream lost with its link: ${err.message}`, { cause: err }),
    );
  }

  override _read(): void {
    this.wantsData = true;
    this.drainQueue();
  }

  private drainQueue(): void {
    let moved = 0;
    while (this.queue.length > 0) {
      const piece = this.queue.shift()!;
      this.queued -= piece.byteLength;
      moved += piece.byteLength;
      if (!this.push(piece)) {
        this.wantsData = false;
        break;
      }
    }
    if (this.queue.length === 0 && this.endReceived) {
      this.wantsData = false;
      this.push(null);
    }
    if (moved > 0) this.grant(moved);
  }

  private grant(moved: number): void {
    if (this.endReceived || this.closedRemotely) return;
    this.ungranted += moved;
    // allowance + queued + ungranted == window always, so a sender stuck at zero credit means
    // queued + ungranted == window: draining the queue always crosses this threshold. Batching
    // keeps WINDOW frames (each its own TLS record) rare.
    if (this.ungranted >= this.window / 2) {
      const credit = this.ungranted;
      this.ungranted = 0;
      this.allowance += credit;
      try {
        this.link.sendWindow(this.streamId, credit);
      } catch {
        // Link closed; onLinkClosed settles the stream.
      }
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.queue.length = 0;
    this.queued = 0;
    if (!this.closedRemotely) {
      this.closedRemotely = true;
      try {
        this.link.sendReset(this.streamId, resetCode(err));
      } catch {
        // Link closed already.
      }
      this.link.forget(this.streamId, true);
    }
    cb(err);
  }
}
