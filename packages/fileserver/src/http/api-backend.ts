// What the HTTP API needs of a node: the operations it exposes and the metrics it reports.
// FileServer satisfies it; tests run the API server against a fake one.

import type { Counter, Registry } from 'prom-client';
import type { DeleteResult } from '../ops/delete.js';
import type { FileEntry } from '../ops/list.js';
import type { FileInfo } from '../ops/local-file.js';
import type { ReadResult } from '../ops/read.js';
import type { NodeStatus } from '../ops/status.js';
import type { StoreResult } from '../ops/store.js';
import type { ScrubReport } from '../repair/scrub.js';
import type { ByteSource } from '../streams.js';

export interface ApiBackend {
  store(key: string, source: ByteSource, options: { signal?: AbortSignal }): Promise<StoreResult>;
  read(key: string, options: { signal?: AbortSignal }): Promise<ReadResult>;
  stat(key: string): Promise<FileInfo>;
  delete(key: string, options: { everywhere?: boolean }): Promise<DeleteResult>;
  list(options: { all?: boolean }): Promise<FileEntry[]>;
  status(): Promise<NodeStatus>;
  scrub(): Promise<ScrubReport>;
  metrics: { registry: Registry; bytesOut: Counter<'via'> };
}
