// The small key/value interface the restic and S3 front ends are written against; a FileServer
// (with the cluster catalog) satisfies it, and so does the on-disk backend the tests use.

import type { Readable } from 'node:stream';

/**
 * Free-form string attributes stored with an object and returned by stat/list. The gateway
 * keeps here what S3 clients expect back: `etag`, `content-type` and the other standard
 * headers, every `x-amz-meta-*` header, checksums (`x-amz-checksum-*`) and `mp-parts`.
 */
export type Attributes = Record<string, string>;

export interface SignalOptions {
  signal?: AbortSignal;
}

/** One object as stat and list report it. */
export interface ObjectInfo {
  /** The full key, '/'-separated. */
  key: string;
  /** Plaintext size in bytes. */
  size: number;
  /** When this version was written, ms since the epoch. */
  modifiedAt: number;
  /** Opaque id of this version (the sealed digest on a FileServer); changes on every write. */
  version: string;
  attributes: Attributes;
}

export interface ListOptions extends SignalOptions {
  /** Only keys that start with this ('' for all). */
  prefix: string;
  /**
   * Roll keys that contain `delimiter` after the prefix up into one common prefix each
   * (`prefix + …up to and including the delimiter`), as S3 and `ls` do.
   */
  delimiter?: string;
  /**
   * Cursor: only items (keys or common prefixes) strictly after this one. A common prefix equal
   * to `after` is not repeated, nor is anything under it, so `next` pages without duplicates.
   */
  after?: string;
  /** Most items (entries and prefixes together) in this page; ≥ 1. */
  limit: number;
}

export interface ListPage {
  /** Objects, ascending by key (UTF-8 byte order). */
  entries: ObjectInfo[];
  /** Common prefixes (only with a delimiter), ascending; merged with entries they are in order. */
  prefixes: string[];
  /** Set when more items follow: the last key or prefix of this page, to pass as `after`. */
  next?: string;
}

/** An inclusive byte range, both ends within the object (start ≤ end < size). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ReadOptions extends SignalOptions {
  /** Read only these bytes; a start at or past the size is ERR_INVALID_RANGE. */
  range?: ByteRange;
}

export interface ReadResult {
  /**
   * The bytes (of the range, if one was asked), verified before they are released; a stream
   * that errors (ERR_INTEGRITY, ERR_UNAVAILABLE…) has delivered a prefix only. Destroy it to
   * stop early.
   */
  stream: Readable;
  /** The object read (the version whose bytes stream, so callers can detect a concurrent write). */
  info: ObjectInfo;
}

/**
 * What a part write is for (S3 UploadPart): the backend may begin assembling `target` while the
 * parts arrive, as long as compose still gives exactly the concatenation of its `sources`.
 */
export interface PartOf {
  /** The upload's id: every part written with it may later be composed into `target`. */
  upload: string;
  /** The part's number (1-based); Complete composes some of the parts in number order. */
  number: number;
  /** The key Complete will compose the parts into. */
  target: string;
}

export interface WriteOptions extends SignalOptions {
  /**
   * Attributes to store with the object, asked once the source has ended and before the write
   * commits, so that digests computed while streaming (an MD5 ETag) can be stored. If it throws,
   * the write fails with that error and nothing is kept.
   */
  attributes?: () => Attributes | Promise<Attributes>;
  /** Set on a multipart upload's parts: a hint only, a backend may ignore it. */
  part?: PartOf;
}

export interface WriteResult {
  size: number;
  version: string;
  modifiedAt: number;
}

export interface ComposeOptions extends SignalOptions {
  attributes?: Attributes;
}

/**
 * What the gateway needs from a store. Keys are '/'-separated paths of any characters; a write
 * is atomic (readers see the old object or the new one, never a part), a failed or aborted write
 * keeps nothing. Errors carry the codes in `BackendErrorCode`.
 */
export interface Backend {
  list(options: ListOptions): Promise<ListPage>;
  /** The object's current version, or undefined when there is none. */
  stat(key: string, options?: SignalOptions): Promise<ObjectInfo | undefined>;
  /** ERR_NOT_FOUND when missing. */
  read(key: string, options?: ReadOptions): Promise<ReadResult>;
  /** Streams `source` into `key` (replacing any object there) with backpressure. */
  write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<WriteResult>;
  /** True when something was deleted. */
  delete(key: string, options?: SignalOptions): Promise<boolean>;
  /**
   * Optional: make `key` the concatenation of the objects `sources` (in order), which are
   * consumed (no longer listed or readable under their own keys once this resolves). A backend
   * that can present several stored objects as one (a manifest) makes S3 multipart completion
   * cost no second pass over the bytes; without it the gateway streams the parts into a write.
   * A backend that saw the parts written (with `part`) may have begun the result already; what
   * it commits is still exactly `sources`, with `attributes`, or nothing.
   */
  compose?(key: string, sources: string[], options?: ComposeOptions): Promise<WriteResult>;
}
