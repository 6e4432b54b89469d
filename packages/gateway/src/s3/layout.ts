// Where S3 things live in the backend's key space: a bucket is a top-level folder; the gateway's
// own state (bucket markers, uploads in progress and their parts) sits under '.s3/'.

/** The folder of the gateway's own records; no bucket can be named like it (a leading dot). */
export const STATE_PREFIX = '.s3/';
export const BUCKETS_PREFIX = `${STATE_PREFIX}buckets/`;
const UPLOADS_PREFIX = `${STATE_PREFIX}uploads/`;
const PARTS_PREFIX = `${STATE_PREFIX}parts/`;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** S3's bucket naming rules (3–63 lower-case letters, digits, dots, hyphens; not an IP). */
export function isValidBucketName(name: string): boolean {
  return (
    BUCKET.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias')
  );
}

export const bucketMarker = (bucket: string) => `${BUCKETS_PREFIX}${bucket}`;
export const objectKey = (bucket: string, key: string) => `${bucket}/${key}`;
export const bucketFolder = (bucket: string) => `${bucket}/`;

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/**
 * Upload records are keyed by the hex of the object key, so listing them in key order and by
 * key prefix is a plain prefix listing (hex preserves byte order, and '/' sorts before digits).
 */
export const uploadsFolder = (bucket: string) => `${UPLOADS_PREFIX}${bucket}/`;
export const uploadRecordPrefix = (bucket: string, keyPrefix: string) =>
  `${uploadsFolder(bucket)}${hex(keyPrefix)}`;
export const uploadRecord = (bucket: string, key: string, uploadId: string) =>
  `${uploadsFolder(bucket)}${hex(key)}/${uploadId}`;

export function parseUploadRecord(
  bucket: string,
  recordKey: string,
): { key: string; uploadId: string } | undefined {
  const rest = recordKey.slice(uploadsFolder(bucket).length);
  const at = rest.indexOf('/');
  if (at < 0) return undefined;
  return {
    key: Buffer.from(rest.slice(0, at), 'hex').toString('utf8'),
    uploadId: rest.slice(at + 1),
  };
}

export const partsFolder = (uploadId: string) => `${PARTS_PREFIX}${uploadId}/`;
/** Zero-padded so that key order is part-number order. */
export const partKey = (uploadId: string, partNumber: number) =>
  `${partsFolder(uploadId)}${String(partNumber).padStart(5, '0')}`;
