// Redial delays: capped exponential backoff with jitter, so many nodes restarting together
// do not dial a bootstrap peer in lockstep.

import { InvalidArgumentError } from './errors.js';

export interface BackoffOptions {
  /** First delay. */
  minDelayMs: number;
  /** Cap on any delay. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  minDelayMs: 100,
  maxDelayMs: 30_000,
});

/** Delay before retry number `attempt` (0-based): a random value in [cap/2, cap]. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Defaults filled in and checked: a zero or inverted range would redial in a tight loop. */
export function resolveBackoff(given: Partial<BackoffOptions> | undefined): BackoffOptions {
  const opts = { ...DEFAULT_BACKOFF, ...given };
  const { minDelayMs, maxDelayMs } = opts;
  if (!Number.isFinite(minDelayMs) || minDelayMs < 1 || !Number.isFinite(maxDelayMs)) {
    throw new InvalidArgumentError('backoff.minDelayMs must be a number of ms ≥ 1');
  }
  if (maxDelayMs < minDelayMs) {
    throw new InvalidArgumentError('backoff.maxDelayMs must be ≥ backoff.minDelayMs');
  }
  return opts;
}
