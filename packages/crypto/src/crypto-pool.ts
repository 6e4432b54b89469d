// A pool of worker threads that seal and open PSB1 streams in batches of whole records, so one
// stream's AES-CTR and HMAC run on several cores while the caller's thread only copies bytes.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type CryptoError,
  IntegrityError,
  InvalidArgumentError,
  PoolClosedError,
  WorkerError,
} from './errors.js';
import type { BatchJob, BatchRunner, WorkerReply } from './pool-job.js';
import { PoolOpenTransform } from './pool-open.js';
import { PoolSealTransform } from './pool-seal.js';
import type { SealOptions } from './seal.js';

const MIB = 1024 * 1024;
const SLOTS = new WeakMap<object, Slot[]>();

export interface CryptoPoolOptions {
  /** Worker threads. Default: one per core but one, at least 1, at most 4. */
  threads?: number;
  /** Bytes of input per batch (rounded down to whole records, at least one). Default 1 MiB. */
  batchBytes?: number;
  /**
   * Batches one stream keeps in flight before it stops taking input (its backpressure bound:
   * about batchBytes × this, in and out). Default 2 × threads, at least 2.
   */
  batchesInFlight?: number;
}

interface Pending {
  resolve(out: Buffer): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
}

/** The compiled worker beside this module; tests run from src, so they use the built one. */
function workerFile(): string {
  const here = fileURLToPath(new URL('./pool-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../dist/pool-worker.js', import.meta.url));
}

function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function checkCount(n: number, what: string, min: number): number {
  if (!Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(`${what} must be an integer of at least ${min}`);
  }
  return n;
}

/**
 * Worker threads for sealing and opening. `seal` and `open` return Transforms whose bytes are
 * exactly those of the inline `seal` / `open` (any opener opens them). Idle workers do not keep
 * the process alive; `close()` ends them, and the work in flight fails with ERR_POOL_CLOSED.
 */
export class CryptoPool implements BatchRunner {
  readonly threads: number;
  readonly batchBytes: number;
  readonly batchesInFlight: number;
  readonly #slots: Slot[] = [];
  readonly #file = workerFile();
  #nextId = 0;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: CryptoPoolOptions = {}) {
    this.threads = checkCount(options.threads ?? defaultThreads(), 'threads', 1);
    this.batchBytes = checkCount(options.batchBytes ?? MIB, 'batchBytes', 1);
    this.batchesInFlight = checkCount(
      options.batchesInFlight ?? Math.max(2, 2 * this.threads),
      'batchesInFlight',
      1,
    );
    SLOTS.set(this, this.#slots);
  }

  /** A sealing Transform (see `seal`): plaintext in, PSB1 out, sealed on the pool. */
  seal(vaultKey: Uint8Array, options: SealOptions = {}): Transform {
    this.#assertOpen();
    return new PoolSealTransform(this, vaultKey, options, this.batchBytes, this.batchesInFlight);
  }

  /** An opening Transform (see `open`): PSB1 in, verified plaintext out, opened on the pool. */
  open(vaultKey: Uint8Array): Transform {
    this.#assertOpen();
    return new PoolOpenTransform(this, vaultKey, this.batchBytes, this.batchesInFlight);
  }

  /** Runs one batch on the least busy worker (starting one if fewer than `threads` run). */
  run(job: BatchJob): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    let slot: Slot;
    try {
      slot = this.#pick();
    } catch (err) {
      // a thread that cannot start (a process or memory limit) fails this batch, not the process
      return Promise.reject(new WorkerError('could not start a crypto worker', { cause: err }));
    }
    const id = this.#nextId++;
    // keys and header in buffers of their own: a slice of Node's shared 8 KiB pool would carry
    // the whole slab (other streams' bytes) into the worker with it
    const own = (b: Uint8Array) => (b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b));
    const request = {
      ...job,
      header: own(job.header),
      encKey: own(job.encKey),
      macKey: own(job.macKey),
      iv: own(job.iv),
      id,
    };
    return new Promise<Buffer>((resolve, reject) => {
      if (slot.jobs.size === 0) slot.worker.ref();
      slot.jobs.set(id, { resolve, reject });
      try {
        slot.worker.postMessage(request, [job.data]);
      } catch (err) {
        this.#settle(slot, id);
        reject(new WorkerError('could not hand a batch to a crypto worker', { cause: err }));
      }
    });
  }

  /** Workers running now (they start on first use and again after a crash). */
  get running(): number {
    return this.#slots.length;
  }

  /** Ends every worker; resolves once all have exited. Safe to call more than once. */
  close(): Promise<void> {
    // a second call waits for the same exits
    this.#closing ??= (async () => {
      this.#closed = true;
      const slots = this.#slots.splice(0);
      for (const slot of slots) this.#fail(slot, new PoolClosedError());
      await Promise.all(slots.map((s) => s.worker.terminate()));
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PoolClosedError();
  }

  #pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.#slots) if (!best || s.jobs.size < best.jobs.size) best = s;
    if (best && (best.jobs.size === 0 || this.#slots.length >= this.threads)) return best;
    return this.#spawn();
  }

  #spawn(): Slot {
    // the worker needs none of the process's flags (and some, like --input-type, break it)
    const worker = new Worker(this.#file, { execArgv: [] });
    const slot: Slot = { worker, jobs: new Map() };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.#settle(slot, reply.id);
      if (!pending) return;
      if ('error' in reply) {
        const { code, message } = reply.error;
        pending.reject(
          code === 'ERR_INTEGRITY' ? new IntegrityError(message) : new WorkerError(message),
        );
      } else {
        pending.resolve(Buffer.from(reply.data, 0, reply.length));
      }
    });
    worker.on('messageerror', (err) => {
      // a reply that cannot be read: its batch would never settle
      this.#drop(slot, new WorkerError(`crypto worker reply unreadable: ${err.message}`));
      void worker.terminate();
    });
    worker.on('error', (err) => {
      this.#drop(slot, new WorkerError(`crypto worker failed: ${err.message}`, { cause: err }));
    });
    worker.on('exit', (code) => {
      this.#drop(slot, new WorkerError(`crypto worker exited with code ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }

  #settle(slot: Slot, id: number): Pending | undefined {
    const pending = slot.jobs.get(id);
    slot.jobs.delete(id);
    if (slot.jobs.size === 0) slot.worker.unref();
    return pending;
  }

  /** A worker is gone: its batches fail, and the next batch starts a fresh one. */
  #drop(slot: Slot, err: CryptoError): void {
    const at = this.#slots.indexOf(slot);
    if (at !== -1) this.#slots.splice(at, 1);
    this.#fail(slot, err);
  }

  #fail(slot: Slot, err: CryptoError): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.worker.unref();
    for (const p of jobs) p.reject(err);
  }
}

/** The live workers of a pool, for tests that crash one (not part of the package surface). */
export function workersOf(pool: CryptoPool): Worker[] {
  return (SLOTS.get(pool) ?? []).map((s) => s.worker);
}
