// What the HTTP API needs of a node: the operations it exposes and the metrics it reports.
// FileServer satisfies it; tests run the API server against a fake one.

import type { Counter, Registry } from 'prom-client';
import type { ListQuery } from '../catalog/name-index.js';
import type { DeleteResult } from '../ops/delete.js';
import type { FileStatus } from '../ops/info.js';
import type { FilePage } from '../ops/list.js';
import type { ReadResult } from '../ops/read.js';
import type { NodeStatus } from '../ops/status.js';
import type { StoreResult } from '../ops/store.js';
import type { ScrubReport } from '../repair/scrub.js';
import type { ByteSource } from '../streams.js';
import type { RangeSpec } from './byte-range.js';

export interface ApiBackend {
  store(key: string, source: ByteSource, options: { signal?: AbortSignal }): Promise<StoreResult>;
  read(key: string, options: { signal?: AbortSignal; range?: RangeSpec }): Promise<ReadResult>;
  /** The cluster's current version of `key` (its catalog record); NotFoundError when none. */
  info(key: string, options: { holders?: boolean }): Promise<FileStatus>;
  delete(key: string, options: { everywhere?: boolean }): Promise<DeleteResult>;
  listPage(query: ListQuery): Promise<FilePage>;
  status(): Promise<NodeStatus>;
  scrub(): Promise<ScrubReport>;
  metrics: { registry: Registry; bytesOut: Counter<'via'> };
}
