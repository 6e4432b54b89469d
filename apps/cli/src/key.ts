// Checks a key before anything is sent: the node refuses the same keys, but an over-long one can
// first trip the HTTP header limit (it travels URL-encoded) and fail with a less helpful message.

import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** The node's limit (packages/fileserver, file-key.ts): bytes of UTF-8 in a key. */
export const MAX_KEY_BYTES = 4096;

/** Throws ERR_INVALID_KEY (exit 2) for an empty or over-long key; `hint` says what to give. */
export function checkKey(key: string, hint: { empty: string; long: string }): void {
  if (key === '') {
    throw new CliError('ERR_INVALID_KEY', EXIT.USAGE, 'the key is empty', hint.empty);
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new CliError(
      'ERR_INVALID_KEY',
      EXIT.USAGE,
      `the key is ${bytes} bytes, over the limit of ${MAX_KEY_BYTES} bytes (UTF-8)`,
      hint.long,
    );
  }
}

/** For commands that name a stored file: no stored key is empty or over the limit. */
export const STORED_KEY_HINT = {
  empty: 'give the key the file was stored under (see "peerstash ls")',
  long: 'no stored key is that long; check it with "peerstash ls"',
};
