// Redial delays: capped exponential backoff with jitter, so many nodes restarting together
// do not dial a bootstrap peer in lockstep.

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
