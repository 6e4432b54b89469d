// Typed errors of the catalog (records, clock, paths), on the file server's base class so the HTTP
// layer and the CLI map them by `code` like every other error of the node.

import { CODES, FileServerError } from '../errors.js';

/** A catalog record that does not validate: bad CBOR, a missing or malformed field, a bad seal. */
export class BadRecordError extends FileServerError {
  constructor(message = 'invalid catalog record', options?: { cause?: unknown }) {
    super(CODES.BAD_RECORD, message, options);
  }
}

/** A remote clock too far ahead of ours: the record is refused now and accepted once we catch up. */
export class ClockDriftError extends FileServerError {
  readonly aheadMs: number;
  constructor(aheadMs: number, options?: { cause?: unknown }) {
    super(CODES.CLOCK_DRIFT, `remote clock is ${aheadMs} ms ahead of this node's`, options);
    this.aheadMs = aheadMs;
  }
}

/** A key used as a path (recursive put/get/rm) with `..`, an empty segment or a leading `/`. */
export class InvalidPathError extends FileServerError {
  constructor(message = 'invalid path', options?: { cause?: unknown }) {
    super(CODES.INVALID_PATH, message, options);
  }
}

/**
 * A record for a file this node holds nothing about, no newer than the tombstones it has already
 * forgotten: it may be one of them coming back, so it is refused and its holder quarantines it.
 */
export class StaleRecordError extends FileServerError {
  constructor(
    message = 'record is older than the forgotten tombstones',
    options?: { cause?: unknown },
  ) {
    super(CODES.STALE_RECORD, message, options);
  }
}
