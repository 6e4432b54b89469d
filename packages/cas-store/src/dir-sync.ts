// Group commit of folder syncs: concurrent writes that need one folder synced share an fsync.
// A caller is answered only by an fsync that began after it asked, so the entries it made in
// the folder (a rename, a new subfolder) are on disk when its promise resolves.

import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Batch {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
  /** Callers in this batch (for the counters). */
  callers: number;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject, callers: 0 };
}

/**
 * Per folder: at most one fsync running and one batch waiting behind it. A caller arriving
 * while an fsync runs joins the waiting batch, which starts when the running one ends, so one
 * fsync answers every caller that arrived during the previous one.
 */
export class DirSync {
  readonly #running = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, Batch>();
  /** fsyncs issued and callers answered: callers / syncs is the batching achieved. */
  syncs = 0;
  callers = 0;

  sync(dir: string): Promise<void> {
    this.callers++;
    const waiting = this.#waiting.get(dir);
    if (waiting) {
      waiting.callers++;
      return waiting.promise;
    }
    const running = this.#running.get(dir);
    if (!running) return this.#start(dir);
    const batch = newBatch();
    batch.callers++;
    this.#waiting.set(dir, batch);
    running.then(
      () => this.#startBatch(dir, batch),
      () => this.#startBatch(dir, batch),
    );
    return batch.promise;
  }

  #startBatch(dir: string, batch: Batch): void {
    this.#waiting.delete(dir);
    this.#start(dir).then(batch.resolve, batch.reject);
  }

  #start(dir: string): Promise<void> {
    this.syncs++;
    const p = fsyncDir(dir);
    this.#running.set(dir, p);
    const done = () => {
      if (this.#running.get(dir) === p) this.#running.delete(dir);
    };
    p.then(done, done);
    return p;
  }
}
