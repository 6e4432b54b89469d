// The range buffers of one multi-source get, reused from range to range: a range is held for
// seconds, so buffers made per range would die old and pile up between full collections.

export class RangeBuffers {
  readonly #free: Buffer[] = [];

  /** A buffer of at least `size` bytes: a free one if one is large enough, else a new one. */
  take(size: number): Buffer {
    const i = this.#free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(size);
  }

  /** Gives buffers back once nothing reads them (their bytes were copied out). */
  give(buffers: readonly Buffer[]): void {
    this.#free.push(...buffers);
  }

  /** Lets go of every free buffer (the get is over). */
  clear(): void {
    this.#free.length = 0;
  }
}
