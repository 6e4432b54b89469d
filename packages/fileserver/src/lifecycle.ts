// Where the node is in its life (new → starting → running → stopping → stopped) and the stop
// signal every disk write in progress listens to, so stop() can wait for their clean-up.

import { setMaxListeners } from 'node:events';
import { AbortedError, ClosedError, isAbort } from './errors.js';

export type NodeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class Lifecycle {
  state: NodeState = 'new';
  readonly #halt = new AbortController();

  constructor() {
    // one listener per write in progress: many at once is normal, not a leak
    setMaxListeners(0, this.#halt.signal);
  }

  /** Peers may talk to the node from the moment its transport listens, before start() returns. */
  live(): boolean {
    return this.state === 'running' || this.state === 'starting';
  }

  /** Aborted by stop(). */
  get halt(): AbortSignal {
    return this.#halt.signal;
  }

  /** Aborts every write in progress: stop() then waits for their clean-up. */
  stopWrites(): void {
    this.#halt.abort(new ClosedError('file server stopped'));
  }

  /**
   * A local write's signal: aborted by the caller's signal or by stop(); call `unlink()` once the
   * write is over. (Not AbortSignal.any: on Node 20 every composite of the node-long stop signal
   * stays referenced by it, a leak per put.)
   */
  writeSignal(signal: AbortSignal | undefined): { signal: AbortSignal; unlink(): void } {
    const halt = this.#halt.signal;
    if (!signal) return { signal: halt, unlink: () => {} };
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal.aborted ? signal.reason : halt.reason);
    if (signal.aborted || halt.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    halt.addEventListener('abort', onAbort, { once: true });
    return {
      signal: ac.signal,
      unlink: () => {
        signal.removeEventListener('abort', onAbort);
        halt.removeEventListener('abort', onAbort);
      },
    };
  }

  /** What a failed write reports: the caller's abort, the node stopping, or the error itself. */
  mapAbort(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return abortError(signal);
    if (this.#halt.signal.aborted) return new ClosedError('file server stopped', { cause: err });
    if (isAbort(err)) return new AbortedError(undefined, { cause: err });
    return err;
  }
}

export function abortError(signal: AbortSignal): Error {
  return new AbortedError(undefined, { cause: signal.reason });
}
