// How a node seals and opens streams: inline on the main thread, or on a CryptoPool of worker
// threads when the machine has cores to spare (cryptoThreads; see DESIGN.md "Crypto threads").
import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { CryptoPool, open, type SealOptions, seal } from '@peerstash/crypto';
import { InvalidArgumentError } from './errors.js';

/** The streaming seal and open a put or get uses; `threads` 0 is inline. */
export interface NodeCrypto {
  readonly threads: number;
  seal(vaultKey: Uint8Array, options: SealOptions): Transform;
  open(vaultKey: Uint8Array): Transform;
  close(): Promise<void>;
}

export const MAX_CRYPTO_THREADS = 64;

/**
 * Worker threads for `cryptoThreads`: a number as given (0: inline); 'auto' (the default) is
 * inline on 1–2 cores, where a worker only takes a core from TLS, HTTP and the disk and the hand-off
 * costs more CPU than it frees, else min(4, cores − 1). Cores as the process may use them (taskset).
 */
export function resolveCryptoThreads(
  value: number | 'auto' | undefined,
  cores = availableParallelism(),
): number {
  if (value === undefined || value === 'auto') return cores <= 2 ? 0 : Math.min(4, cores - 1);
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_CRYPTO_THREADS) {
    throw new InvalidArgumentError(
      `cryptoThreads must be 'auto' or an integer from 0 to ${MAX_CRYPTO_THREADS}`,
    );
  }
  return value;
}

const INLINE: NodeCrypto = {
  threads: 0,
  seal: (vaultKey, options) => seal(vaultKey, options),
  open: (vaultKey) => open(vaultKey),
  close: async () => {},
};

/** Inline for 0 threads, else a pool (its workers start on the first big put or get). */
export function nodeCrypto(threads: number): NodeCrypto {
  if (threads === 0) return INLINE;
  const pool = new CryptoPool({ threads });
  return {
    threads,
    seal: (vaultKey, options) => pool.seal(vaultKey, options),
    open: (vaultKey) => pool.open(vaultKey),
    close: () => pool.close(),
  };
}

/** The node's crypto, or inline for components built without one (tests, tools). */
export const cryptoOf = (c: { crypto?: NodeCrypto | undefined }): NodeCrypto => c.crypto ?? INLINE;
