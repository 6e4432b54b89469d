// A hybrid logical clock: wall-clock milliseconds, a counter for events in the same millisecond and
// the node id as the final tiebreak, so every version in the cluster has one total order.

import { ClockDriftError } from './errors.js';

export interface Hlc {
  /** Milliseconds since the epoch (the writer's clock, never behind a clock it has seen). */
  wall: number;
  /** Orders events within one millisecond: 0..MAX_COUNTER. */
  counter: number;
  /** The writer's node id (64 lowercase hex): two writers never tie. */
  node: string;
}

export const MAX_COUNTER = 0xffff;
/** The wall part fits 48 bits (until the year 10889), so an encoded clock is 8 + 32 bytes. */
export const MAX_WALL = 2 ** 48 - 1;
export const HLC_BYTES = 40;
/** How far ahead of our clock a remote clock may be and still be accepted. */
export const DEFAULT_MAX_DRIFT_MS = 60_000;

/** Total order: wall, then counter, then node id. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** 6 bytes wall | 2 bytes counter | 32 bytes node id: byte order is clock order. */
export function encodeHlc(h: Hlc): Buffer {
  const out = Buffer.alloc(HLC_BYTES);
  out.writeUIntBE(h.wall, 0, 6);
  out.writeUInt16BE(h.counter, 6);
  out.write(h.node, 8, 32, 'hex');
  return out;
}

export function decodeHlc(b: Uint8Array): Hlc {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    wall: buf.readUIntBE(0, 6),
    counter: buf.readUInt16BE(6),
    node: buf.toString('hex', 8, HLC_BYTES),
  };
}

export function formatHlc(h: Hlc): string {
  return `${h.wall}.${h.counter}@${h.node.slice(0, 8)}`;
}

export interface ClockOptions {
  node: string;
  /** The physical clock (ms). Default Date.now. */
  now?: () => number;
  maxDriftMs?: number;
  /** The newest clock issued or seen before a restart, so a clock set back never reorders. */
  last?: { wall: number; counter: number };
}

/**
 * Issues timestamps that grow strictly, stay at or ahead of the physical clock, and follow the
 * newest remote clock observed. Remote clocks more than maxDriftMs ahead are refused, not clamped:
 * a record's clock is part of what it is (every node must order it the same way), so a node cannot
 * change it; it refuses the record now and takes it from anti-entropy once its own clock is close.
 */
export class HybridClock {
  readonly node: string;
  readonly maxDriftMs: number;
  readonly #physical: () => number;
  #wall: number;
  #counter: number;

  constructor(options: ClockOptions) {
    this.node = options.node;
    this.#physical = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    this.#wall = options.last?.wall ?? 0;
    this.#counter = options.last?.counter ?? 0;
  }

  /** The newest clock issued or observed. */
  get last(): { wall: number; counter: number } {
    return { wall: this.#wall, counter: this.#counter };
  }

  /** A timestamp later than every one issued or observed so far. */
  now(): Hlc {
    const pt = Math.floor(this.#physical());
    if (pt > this.#wall) {
      this.#wall = pt;
      this.#counter = 0;
    } else if (this.#counter < MAX_COUNTER) {
      this.#counter++;
    } else {
      // 65,536 events in one millisecond: borrow the next millisecond rather than wrap
      this.#wall++;
      this.#counter = 0;
    }
    return { wall: this.#wall, counter: this.#counter, node: this.node };
  }

  /** Throws ClockDriftError (ERR_CLOCK_DRIFT) when `remote` is too far ahead of the physical clock. */
  check(remote: Hlc): void {
    const ahead = remote.wall - Math.floor(this.#physical());
    if (ahead > this.maxDriftMs) throw new ClockDriftError(ahead);
  }

  /** Checks `remote`, then moves this clock past it so later events order after it. */
  observe(remote: Hlc): void {
    this.check(remote);
    if (
      remote.wall > this.#wall ||
      (remote.wall === this.#wall && remote.counter > this.#counter)
    ) {
      this.#wall = remote.wall;
      this.#counter = remote.counter;
    }
  }
}
