// The metadata record kept beside each blob (`<hash>.meta.json`), which is also the commit record:
// it names the blob file it belongs to, so renaming it into place publishes key, sizes and bytes at once.

export interface BlobMeta {
  namespace: string;
  /** The original key, as given to `write`. */
  key: string;
  /** Bytes stored. */
  size: number;
  /** SHA-256 (lowercase hex) of the stored bytes. */
  digest: string;
  /** Milliseconds since the epoch when the write committed. */
  createdAt: number;
  /** Caller data, stored as JSON (e.g. a sealed file name). */
  extra?: Record<string, unknown>;
}

/** What is on disk: the public record plus the name of its blob file. */
export interface MetaRecord extends BlobMeta {
  v: 1;
  blob: string;
}

export const META_SUFFIX = '.meta.json';
export const BLOB_SUFFIX = '.blob';
export const TMP_SUFFIX = '.tmp';

const DIGEST = /^[0-9a-f]{64}$/;
const WRITE_ID = /^[0-9a-f]{16}$/;

export function blobFileName(filename: string, writeId: string): string {
  return `${filename}.${writeId}${BLOB_SUFFIX}`;
}

export function encodeMeta(record: MetaRecord): string {
  return JSON.stringify(record);
}

/** Parses a meta file; anything malformed yields undefined so the pair counts as absent. */
export function decodeMeta(text: string, filename: string): MetaRecord | undefined {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (r === null || typeof r !== 'object') return undefined;
  const m = r as Record<string, unknown>;
  if (
    m.v !== 1 ||
    typeof m.namespace !== 'string' ||
    typeof m.key !== 'string' ||
    typeof m.size !== 'number' ||
    !Number.isSafeInteger(m.size) ||
    m.size < 0 ||
    typeof m.digest !== 'string' ||
    !DIGEST.test(m.digest) ||
    typeof m.createdAt !== 'number' ||
    typeof m.blob !== 'string' ||
    (m.extra !== undefined && (m.extra === null || typeof m.extra !== 'object'))
  ) {
    return undefined;
  }
  const prefix = `${filename}.`;
  const id =
    m.blob.startsWith(prefix) && m.blob.endsWith(BLOB_SUFFIX)
      ? m.blob.slice(prefix.length, -BLOB_SUFFIX.length)
      : '';
  if (!WRITE_ID.test(id)) return undefined;
  return m as unknown as MetaRecord;
}

export function publicMeta(record: MetaRecord): BlobMeta {
  const meta: BlobMeta = {
    namespace: record.namespace,
    key: record.key,
    size: record.size,
    digest: record.digest,
    createdAt: record.createdAt,
  };
  if (record.extra !== undefined) meta.extra = record.extra;
  return meta;
}
