// The sealed final record of a file whose size is a multiple of its chunk size: empty, only its
// tag. A ranged read never carries it (no plaintext byte lives there), so whoever assembles a
// whole blob from ranges (a multi-source get) computes it from the header and the vault key.
import { InvalidArgumentError } from './errors.js';
import { assertKey } from './keys.js';
import { ChunkTagger, readFileKeys } from './sealed-format.js';

/** The empty final record (its 32-byte tag) of a blob with `header` and `plainSize` bytes. */
export function emptyFinalRecord(
  vaultKey: Uint8Array,
  header: Uint8Array,
  plainSize: number,
): Buffer {
  assertKey(vaultKey, 'vault key');
  const keys = readFileKeys(vaultKey, header);
  if (!Number.isSafeInteger(plainSize) || plainSize < 0 || plainSize % keys.chunkSize !== 0) {
    throw new InvalidArgumentError(
      'the final record is empty only at a multiple of the chunk size',
    );
  }
  return new ChunkTagger(keys).tag(plainSize / keys.chunkSize, true, []);
}
