// Serialises the short commit step of writes and deletes of one key inside this process.
// Streaming the bytes runs outside the lock; only rename/fsync/unlink wait on each other.

export class KeyLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(id, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    }
  }

  get size(): number {
    return this.#tails.size;
  }
}
