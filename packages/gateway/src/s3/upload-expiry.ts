// What the S3 handler tracks of multipart uploads past their age: each expired upload is removed
// once, a few at a time, in the background, and never while a Complete of it is running.

/** Expired uploads removed at once, at most (each removal is a listing and a delete per part). */
const CONCURRENCY = 2;
/** Expired uploads waiting for their removal, at most; more are found again by a later request. */
const MAX_WAITING = 1000;

export class UploadExpiry {
  readonly #completing = new Map<string, number>();
  readonly #queued = new Set<string>();
  readonly #waiting: Array<{ id: string; job: () => Promise<void> }> = [];
  #running = 0;

  /** Marks a Complete of `uploadId` as running; the function returned ends the mark. */
  completing(uploadId: string): () => void {
    this.#completing.set(uploadId, (this.#completing.get(uploadId) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#completing.get(uploadId) ?? 1) - 1;
      if (left > 0) this.#completing.set(uploadId, left);
      else this.#completing.delete(uploadId);
    };
  }

  /**
   * Queues the removal of an expired upload unless it is queued or running already, or a
   * Complete of it is running (the Complete then removes it, as it always does).
   */
  remove(uploadId: string, job: () => Promise<void>): void {
    if (this.#completing.has(uploadId) || this.#queued.has(uploadId)) return;
    if (this.#waiting.length >= MAX_WAITING) return;
    this.#queued.add(uploadId);
    this.#waiting.push({ id: uploadId, job });
    this.#next();
  }

  /** Uploads queued or being removed now. */
  get pending(): number {
    return this.#queued.size;
  }

  #next(): void {
    while (this.#running < CONCURRENCY && this.#waiting.length > 0) {
      const { id, job } = this.#waiting.shift()!;
      this.#running++;
      // a Complete that began while this one waited wins: skip it
      const run = this.#completing.has(id) ? Promise.resolve() : job();
      run
        .catch(() => {})
        .finally(() => {
          this.#running--;
          this.#queued.delete(id);
          this.#next();
        });
    }
  }
}
