// Multipart uploads: an upload is a record under '.s3/uploads/', each part a hidden object under
// '.s3/parts/<uploadId>/'; parts stream straight into the backend, never held in memory.

import { randomBytes } from 'node:crypto';
import type { ObjectInfo } from '../backend.js';
import { parseRange } from '../http/range.js';
import { OWNER } from './buckets.js';
import { algorithmOfName } from './checksums.js';
import {
  allow,
  continueIfExpected,
  header,
  isoDate,
  requireBucket,
  type S3Context,
  sendEmpty,
  sendXml,
} from './context.js';
import { S3Errors } from './errors.js';
import {
  objectKey,
  parseUploadRecord,
  partKey,
  partsFolder,
  uploadRecord,
  uploadRecordPrefix,
} from './layout.js';
import { metadataFromRequest, refuseUnsupported } from './metadata.js';
import { checkKey, checksumHeaders, copyBytes, copySource } from './objects.js';
import { uploadBody } from './upload-body.js';

export const MAX_PARTS = 10_000;

/** The upload's record, or NoSuchUpload. */
export async function uploadOf(
  ctx: S3Context,
): Promise<{ bucket: string; key: string; uploadId: string; record: ObjectInfo }> {
  const bucket = await requireBucket(ctx);
  const key = checkKey(ctx);
  const uploadId = ctx.query.get('uploadId') ?? '';
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw S3Errors.NoSuchUpload();
  const record = await ctx.settings.backend.stat(uploadRecord(bucket, key, uploadId), {
    signal: ctx.signal,
  });
  if (!record) throw S3Errors.NoSuchUpload();
  if (expired(ctx, record)) {
    expire(ctx, bucket, key, uploadId);
    throw S3Errors.NoSuchUpload();
  }
  return { bucket, key, uploadId, record };
}

/** Whether an upload began longer ago than uploads may stay incomplete. */
function expired(ctx: S3Context, record: ObjectInfo): boolean {
  return ctx.settings.now() - record.modifiedAt > ctx.settings.uploadMaxAgeMs;
}

/**
 * Aborts an expired upload in the background (a request or listing that found it does not wait
 * for its parts' deletes), once, a few at a time, never under a running Complete: every part goes,
 * then the record, so a removal cut short (a stop) is found and finished by a later request.
 */
function expire(ctx: S3Context, bucket: string, key: string, uploadId: string): void {
  const { settings } = ctx;
  // only what the removal needs: not the request
  const own = { settings, signal: new AbortController().signal } as S3Context;
  settings.expiry.remove(uploadId, () =>
    removeUpload(own, bucket, key, uploadId, new Set(), { recordLast: true }).then(
      () => settings.logger.info({ bucket, key, uploadId }, 'expired multipart upload aborted'),
      (err: Error) =>
        settings.logger.warn(
          { bucket, key, uploadId, err: err.message },
          'expired multipart upload not yet removed',
        ),
    ),
  );
}

function partNumberOf(ctx: S3Context): number {
  const v = ctx.query.get('partNumber') ?? '';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_PARTS) {
    throw S3Errors.InvalidArgument(
      `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`,
    );
  }
  return n;
}

export async function createMultipartUpload(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  const key = checkKey(ctx);
  refuseUnsupported(ctx);
  const meta = metadataFromRequest(ctx);
  if (header(ctx, 'x-amz-checksum-type')?.toUpperCase() === 'FULL_OBJECT') {
    throw S3Errors.NotImplemented(
      'full-object checksums of multipart uploads are not supported; use COMPOSITE',
    );
  }
  const algorithm = header(ctx, 'x-amz-checksum-algorithm');
  if (algorithm) meta['checksum-algorithm'] = algorithmOfName(algorithm);
  const uploadId = randomBytes(16).toString('hex');
  await ctx.settings.backend.write(uploadRecord(bucket, key, uploadId), (async function* () {})(), {
    signal: ctx.signal,
    attributes: () => meta,
  });
  sendXml(ctx, 200, 'InitiateMultipartUploadResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
  });
}

/** A part written after an abort would be orphaned: check the upload is still there, or drop it. */
async function keepIfUploadLives(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
  part: string,
) {
  const { backend } = ctx.settings;
  if (await backend.stat(uploadRecord(bucket, key, uploadId))) return;
  await backend.delete(part);
  throw S3Errors.NoSuchUpload();
}

export async function uploadPart(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const partNumber = partNumberOf(ctx);
  const { bucket, key, uploadId, record } = await uploadOf(ctx);
  const body = uploadBody(ctx.req, {
    payload: ctx.principal.payload,
    maxSize: ctx.settings.maxObjectSize,
  });
  const wanted = record.attributes['checksum-algorithm'];
  const part = partKey(uploadId, partNumber);
  let stored: Record<string, string> = {};
  continueIfExpected(ctx);
  await ctx.settings.backend.write(part, body.source, {
    signal: ctx.signal,
    part: { upload: uploadId, number: partNumber, target: objectKey(bucket, key) },
    attributes: () => {
      const d = body.finish();
      if (wanted && d.checksum?.algorithm !== wanted) {
        throw S3Errors.InvalidRequest(`this upload's parts need an x-amz-checksum-${wanted}`);
      }
      stored = { etag: d.md5 };
      if (d.checksum) stored[`x-amz-checksum-${d.checksum.algorithm}`] = d.checksum.value;
      return stored;
    },
  });
  await keepIfUploadLives(ctx, bucket, key, uploadId, part);
  sendEmpty(ctx, 200, { ETag: `"${stored.etag}"`, ...checksumHeaders(stored) });
}

export async function uploadPartCopy(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const partNumber = partNumberOf(ctx);
  const { bucket, key, uploadId } = await uploadOf(ctx);
  const source = await copySource(ctx);
  const rangeHeader = header(ctx, 'x-amz-copy-source-range');
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const r = parseRange(rangeHeader, source.info.size);
    if (r.kind !== 'range' || !/^bytes=\d+-\d+$/.test(rangeHeader.trim())) {
      throw S3Errors.InvalidArgument(
        'x-amz-copy-source-range must be bytes=first-last within the source',
      );
    }
    range = r.range;
  }
  const part = partKey(uploadId, partNumber);
  const { result, stored } = await copyBytes(ctx, source, part, (md5) => ({ etag: md5 }), range);
  await keepIfUploadLives(ctx, bucket, key, uploadId, part);
  sendXml(ctx, 200, 'CopyPartResult', {
    ETag: `"${stored.etag}"`,
    LastModified: isoDate(result.modifiedAt),
  });
}

/** Every part of an upload in part order, page by page. */
export async function* partsOf(
  ctx: S3Context,
  uploadId: string,
  after?: string,
): AsyncGenerator<ObjectInfo> {
  let cursor = after;
  for (;;) {
    const page = await ctx.settings.backend.list({
      prefix: partsFolder(uploadId),
      ...(cursor !== undefined ? { after: cursor } : {}),
      limit: 1000,
      signal: ctx.signal,
    });
    yield* page.entries;
    if (!page.next) return;
    cursor = page.next;
  }
}

export function partNumberOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1));
}

/** Deletes the upload record first (so parts still arriving notice), then every part. */
/** Parts deleted at once when an upload completes or aborts. */
const DELETE_CONCURRENCY = 8;

export async function removeUpload(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
  keepParts = new Set<string>(),
  { recordLast = false }: { recordLast?: boolean } = {},
) {
  const { backend } = ctx.settings;
  if (!recordLast) await backend.delete(uploadRecord(bucket, key, uploadId));
  const doomed: string[] = [];
  for await (const p of partsOf(ctx, uploadId)) if (!keepParts.has(p.key)) doomed.push(p.key);
  // a few at a time: on a cluster each delete is a round trip to every peer (~0.1 s), and a
  // 1 GiB upload leaves 128 parts behind
  let next = 0;
  const worker = async () => {
    while (next < doomed.length) await backend.delete(doomed[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, doomed.length) }, worker));
  if (recordLast) await backend.delete(uploadRecord(bucket, key, uploadId));
}

export async function abortMultipartUpload(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const { bucket, key, uploadId } = await uploadOf(ctx);
  await removeUpload(ctx, bucket, key, uploadId);
  sendEmpty(ctx, 204);
}

export async function listParts(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  const { bucket, key, uploadId } = await uploadOf(ctx);
  const markerText = ctx.query.get('part-number-marker') ?? '0';
  const maxText = ctx.query.get('max-parts') ?? '1000';
  if (!/^\d+$/.test(markerText) || !/^\d+$/.test(maxText)) {
    throw S3Errors.InvalidArgument('part-number-marker and max-parts are integers');
  }
  const marker = Number(markerText);
  const max = Math.min(Number(maxText), 1000);
  const page = await ctx.settings.backend.list({
    prefix: partsFolder(uploadId),
    ...(marker > 0 ? { after: partKey(uploadId, Math.min(marker, MAX_PARTS)) } : {}),
    limit: Math.max(max, 1),
    signal: ctx.signal,
  });
  const parts = max === 0 ? [] : page.entries;
  const last = parts.at(-1);
  sendXml(ctx, 200, 'ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    ...(last ? { NextPartNumberMarker: partNumberOfKey(last.key) } : {}),
    MaxParts: max,
    IsTruncated: max > 0 && page.next !== undefined,
    Part: parts.map((p) => ({
      PartNumber: partNumberOfKey(p.key),
      LastModified: isoDate(p.modifiedAt),
      ETag: `"${p.attributes.etag ?? p.version}"`,
      Size: p.size,
      ...Object.fromEntries(
        Object.entries(p.attributes)
          .filter(([k]) => k.startsWith('x-amz-checksum-'))
          .map(([k, v]) => [`Checksum${k.slice(15).toUpperCase()}`, v]),
      ),
    })),
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: 'STANDARD',
  });
}

export async function listMultipartUploads(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  const bucket = await requireBucket(ctx);
  if (ctx.query.get('delimiter'))
    throw S3Errors.NotImplemented('listing uploads with a delimiter is not supported');
  const prefix = ctx.query.get('prefix') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const idMarker = ctx.query.get('upload-id-marker') ?? '';
  const max = Math.min(Number(ctx.query.get('max-uploads') ?? 1000) || 0, 1000);
  // '~' sorts after every hex upload id: past all uploads of the marker key.
  const after = keyMarker ? `${uploadRecord(bucket, keyMarker, idMarker || '~')}` : undefined;
  const page = await ctx.settings.backend.list({
    prefix: uploadRecordPrefix(bucket, prefix),
    ...(after ? { after } : {}),
    limit: Math.max(max, 1),
    signal: ctx.signal,
  });
  const uploads = (max === 0 ? [] : page.entries).flatMap((e) => {
    const parsed = parseUploadRecord(bucket, e.key);
    if (!parsed) return [];
    if (expired(ctx, e)) {
      // a page may come out shorter than max-uploads; IsTruncated still tells there is more
      expire(ctx, bucket, parsed.key, parsed.uploadId);
      return [];
    }
    return [{ ...parsed, initiated: e.modifiedAt }];
  });
  // the page's last record, listed or expired: where the next page starts
  const lastRecord = max === 0 ? undefined : page.entries.at(-1);
  const last = lastRecord && parseUploadRecord(bucket, lastRecord.key);
  sendXml(ctx, 200, 'ListMultipartUploadsResult', {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    ...(last && page.next ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId } : {}),
    Prefix: prefix,
    MaxUploads: max,
    IsTruncated: max > 0 && page.next !== undefined,
    Upload: uploads.map((u) => ({
      Key: u.key,
      UploadId: u.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      Initiated: isoDate(u.initiated),
    })),
  });
}
