// A floor under the rate of a request body: a client that trickles bytes (one every few seconds
// restarts any idle timer) is answered 408 once its rate over a sliding window falls below it.

import type { IncomingMessage } from 'node:http';

export interface BodyRateOptions {
  /** The floor (default 16 KiB/s); 0 turns the check off. */
  bytesPerSec: number;
  /** The window the rate is averaged over (default 30 s). */
  windowMs: number;
  /** Time from the start of the body before the first check (default: one window). */
  graceMs: number;
  /** How often the rate is sampled (default 1 s). */
  tickMs: number;
}

export const DEFAULT_BODY_RATE: BodyRateOptions = {
  bytesPerSec: 16 * 1024,
  windowMs: 30_000,
  graceMs: 30_000,
  tickMs: 1000,
};

/** True when the request announces a body (a length above 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

interface Sample {
  bytes: number;
  /** The node was ready for more at that moment: a slow body then is the client's doing. */
  waiting: boolean;
}

/**
 * Samples the socket's received bytes every tick. Only ticks in which the request's buffer had
 * room count towards the time: while the handler applies backpressure (a slow disk) the socket
 * is not read, and that is no fault of the client's. Calls `onSlow` once; returns a stop.
 */
export function watchBodyRate(
  req: IncomingMessage,
  options: BodyRateOptions,
  onSlow: (rate: number) => void,
): () => void {
  if (options.bytesPerSec <= 0) return () => {};
  const socket = req.socket;
  const started = Date.now();
  let last = socket.bytesRead;
  const samples: Sample[] = [];
  const keep = Math.max(1, Math.ceil(options.windowMs / options.tickMs));
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    const now = socket.bytesRead;
    samples.push({
      bytes: now - last,
      waiting: req.readableLength < req.readableHighWaterMark,
    });
    last = now;
    if (samples.length > keep) samples.shift();
    if (Date.now() - started < options.graceMs) return;
    let bytes = 0;
    let waited = 0;
    for (const s of samples) {
      bytes += s.bytes;
      if (s.waiting) waited += options.tickMs;
    }
    if (waited === 0) return;
    const rate = (bytes * 1000) / waited;
    if (rate < options.bytesPerSec) {
      stop();
      onSlow(rate);
    }
  }, options.tickMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    req.off('end', stop);
    req.off('close', stop);
  };
  req.once('end', stop);
  req.once('close', stop);
  return stop;
}
