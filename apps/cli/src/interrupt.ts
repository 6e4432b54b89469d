// Ctrl-C during a transfer: an AbortSignal that fires on SIGINT/SIGTERM, so put and get can stop
// the request and remove what they wrote before exiting 130, instead of dying with a half file.

import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Restores the default signal behaviour. */
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) =>
    ac.abort(
      new CliError(
        'ERR_ABORTED',
        EXIT.INTERRUPTED,
        `interrupted (${sig})`,
        'nothing partial was kept',
      ),
    );
  // `once`: a second Ctrl-C while cleaning up falls through to the default and ends the process.
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
