// Limits a transport enforces on every peer, with their defaults. A peer that goes past one is
// disconnected with ERR_PROTOCOL (ERR_TIMEOUT for the timers); local calls past one get ERR_LIMIT.

import { InvalidArgumentError } from './errors.js';

export interface TransportLimits {
  /** Largest DATA frame payload accepted (and announced to peers as their send limit). */
  maxFrameSize: number;
  /** Largest CBOR message or stream header. */
  maxMessageSize: number;
  /** Streams a peer may have open towards this node at once. */
  maxStreamsPerPeer: number;
  /** Per-stream receive window: bytes a sender may have unread at this node. */
  streamWindow: number;
  /** Time for TLS + HELLO exchange. */
  handshakeTimeoutMs: number;
  /** Quiet time after which a PING is sent. */
  pingIntervalMs: number;
  /** Quiet time after which the peer is dropped (no frame, not even a PONG). */
  idleTimeoutMs: number;
  /** Inbound sockets allowed in their handshake at once; more are closed on arrival. */
  maxPendingHandshakes: number;
}

export const DEFAULT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxFrameSize: 1024 * 1024,
  maxMessageSize: 1024 * 1024,
  maxStreamsPerPeer: 64,
  streamWindow: 256 * 1024,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 10_000,
  idleTimeoutMs: 30_000,
  maxPendingHandshakes: 128,
});

const RANGES: Record<keyof TransportLimits, [number, number]> = {
  maxFrameSize: [1024, 16 * 1024 * 1024],
  maxMessageSize: [1024, 64 * 1024 * 1024],
  maxStreamsPerPeer: [1, 65_536],
  streamWindow: [1024, 64 * 1024 * 1024],
  handshakeTimeoutMs: [1, 600_000],
  pingIntervalMs: [1, 3_600_000],
  idleTimeoutMs: [1, 3_600_000],
  maxPendingHandshakes: [1, 65_536],
};

export function resolveLimits(given: Partial<TransportLimits> | undefined): TransportLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, [min, max]] of Object.entries(RANGES) as [
    keyof TransportLimits,
    [number, number],
  ][]) {
    const v = limits[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`limits.${name} must be an integer in [${min}, ${max}]`);
    }
  }
  return limits;
}
