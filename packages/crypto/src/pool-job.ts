// The messages between a CryptoPool and its workers: one batch of whole PSB1 records per job,
// with the keys it needs, so any worker can take any batch of any stream.

export interface BatchJob {
  op: 'seal' | 'open';
  header: Uint8Array;
  encKey: Uint8Array;
  macKey: Uint8Array;
  iv: Uint8Array;
  chunkSize: number;
  /** Index of the batch's first record. */
  firstIndex: number;
  /** Whether the batch ends with the blob's final (short, maybe empty) record. */
  endsAtFinal: boolean;
  /** Bytes of `data` used (the buffer may be larger: a batch buffer only partly filled). */
  length: number;
  /** Plaintext (seal) or whole records (open); transferred, not copied. */
  data: ArrayBuffer;
}

export type WorkerRequest = BatchJob & { id: number };

export type WorkerReply =
  | { id: number; data: ArrayBuffer; length: number }
  | { id: number; error: { code: string; message: string } };

/** Runs one batch somewhere (a worker thread) and resolves with its output bytes. */
export interface BatchRunner {
  run(job: BatchJob): Promise<Buffer>;
}
