// Object operations: PutObject, GetObject and HeadObject (ranges, conditions), DeleteObject and
// CopyObject, all streamed between the socket and the backend with backpressure.

import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Attributes, ObjectInfo, ReadResult } from '../backend.js';
import { contentRange, parseRange } from '../http/range.js';
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
import { isValidBucketName, objectKey } from './layout.js';
import {
  checkConditions,
  metadataFromRequest,
  metadataOf,
  objectHeaders,
  refuseUnsupported,
} from './metadata.js';
import { uploadBody } from './upload-body.js';

const MAX_KEY_BYTES = 1024;

export function checkKey(ctx: S3Context): string {
  const key = ctx.key!;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw S3Errors.KeyTooLongError();
  return key;
}

function refuseVersionId(ctx: S3Context): void {
  const v = ctx.query.get('versionId');
  if (v !== null && v !== 'null')
    throw S3Errors.NotImplemented('object versions are not supported');
}

/** S3 echoes AES256 when asked: peerstash seals every object anyway. */
function sseHeaders(ctx: S3Context): Record<string, string> {
  return header(ctx, 'x-amz-server-side-encryption') === 'AES256'
    ? { 'x-amz-server-side-encryption': 'AES256' }
    : {};
}

/** The stored x-amz-checksum-* values; `whole` drops composite ones ("…-n"), which a copy loses. */
export function checksumHeaders(attributes: Attributes, whole = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (k.startsWith('x-amz-checksum-') && !(whole && v.includes('-'))) out[k] = v;
  }
  return out;
}

export async function putObject(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  const key = checkKey(ctx);
  refuseUnsupported(ctx);
  const meta = metadataFromRequest(ctx);
  const body = uploadBody(ctx.req, {
    payload: ctx.principal.payload,
    maxSize: ctx.settings.maxObjectSize,
  });
  let stored: Attributes = {};
  continueIfExpected(ctx);
  await ctx.settings.backend.write(objectKey(bucket, key), body.source, {
    signal: ctx.signal,
    attributes: () => {
      const d = body.finish();
      stored = { ...meta, etag: d.md5 };
      if (d.checksum) stored[`x-amz-checksum-${d.checksum.algorithm}`] = d.checksum.value;
      return stored;
    },
  });
  sendEmpty(ctx, 200, { ETag: `"${stored.etag}"`, ...checksumHeaders(stored), ...sseHeaders(ctx) });
}

/** Stat, conditions and range resolved against one version, retried if a write lands between. */
async function openObject(ctx: S3Context, withBody: boolean) {
  const { backend } = ctx.settings;
  const key = objectKey(ctx.bucket!, ctx.key!);
  for (let attempt = 0; ; attempt++) {
    const info = await backend.stat(key, { signal: ctx.signal });
    if (!info) throw S3Errors.NoSuchKey();
    checkConditions(ctx, info);
    const r = parseRange(header(ctx, 'range'), info.size);
    if (r.kind === 'multiple')
      throw S3Errors.NotImplemented('multiple byte ranges in one request are not supported');
    if (r.kind === 'unsatisfiable') {
      ctx.res.setHeader('Content-Range', `bytes */${info.size}`);
      throw S3Errors.InvalidRange(undefined, {
        RangeRequested: header(ctx, 'range') ?? '',
        ActualObjectSize: String(info.size),
      });
    }
    const range = r.kind === 'range' ? r.range : undefined;
    if (!withBody || info.size === 0) return { info, range, read: undefined };
    const read: ReadResult = await backend.read(key, {
      ...(range ? { range } : {}),
      signal: ctx.signal,
    });
    if (read.info.version === info.version) return { info, range, read };
    read.stream.destroy();
    if (attempt >= 2) throw S3Errors.ServiceUnavailable('the object keeps changing; retry');
  }
}

export async function getObject(ctx: S3Context, withBody = true): Promise<void> {
  allow(ctx, false);
  await requireBucket(ctx);
  checkKey(ctx);
  refuseVersionId(ctx);
  if (ctx.query.has('partNumber'))
    throw S3Errors.NotImplemented('reading by part number is not supported');
  const { info, range, read } = await openObject(ctx, withBody);
  const headers = objectHeaders(ctx, info);
  if (range) {
    headers['Content-Range'] = contentRange(range, info.size);
    headers['Content-Length'] = range.end - range.start + 1;
  } else {
    headers['Content-Length'] = info.size;
  }
  ctx.res.writeHead(range ? 206 : 200, headers);
  if (!read) {
    ctx.res.end();
    return;
  }
  await pipeline(read.stream, ctx.res);
}

export async function deleteObject(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  const key = checkKey(ctx);
  refuseVersionId(ctx);
  await ctx.settings.backend.delete(objectKey(bucket, key), { signal: ctx.signal });
  sendEmpty(ctx, 204);
}

/** `x-amz-copy-source: /bucket/key` (URL-encoded) → the source object, with access checked. */
export async function copySource(
  ctx: S3Context,
): Promise<{ bucket: string; key: string; info: ObjectInfo }> {
  const raw = header(ctx, 'x-amz-copy-source')!;
  let decoded: string;
  try {
    const [path = '', q] = raw.split('?');
    if (q !== undefined && !/^versionId=null$/.test(q)) {
      throw S3Errors.NotImplemented('copying a specific object version is not supported');
    }
    decoded = decodeURIComponent(path).replace(/^\//, '');
  } catch (err) {
    if (err instanceof URIError)
      throw S3Errors.InvalidArgument('x-amz-copy-source is not valid URL encoding');
    throw err;
  }
  const at = decoded.indexOf('/');
  const bucket = decoded.slice(0, at);
  const key = decoded.slice(at + 1);
  if (at <= 0 || key === '' || !isValidBucketName(bucket))
    throw S3Errors.InvalidArgument('x-amz-copy-source must be /bucket/key');
  const restricted = ctx.principal.key.bucket;
  if (restricted !== undefined && restricted !== bucket) throw S3Errors.AccessDenied();
  const info = await requireBucket({ ...ctx, bucket }).then(() =>
    ctx.settings.backend.stat(objectKey(bucket, key), { signal: ctx.signal }),
  );
  if (!info) throw S3Errors.NoSuchKey('The specified copy source does not exist');
  checkConditions(ctx, info, 'x-amz-copy-source-');
  return { bucket, key, info };
}

/** Streams `source` (whole or a range) into `target`, hashing MD5 on the way. */
export async function copyBytes(
  ctx: S3Context,
  source: { bucket: string; key: string; info: ObjectInfo },
  target: string,
  attributes: (md5: string) => Attributes,
  range?: { start: number; end: number },
) {
  const { backend } = ctx.settings;
  const md5 = createHash('md5');
  const read =
    source.info.size === 0
      ? undefined
      : await backend.read(objectKey(source.bucket, source.key), {
          ...(range ? { range } : {}),
          signal: ctx.signal,
        });
  if (read && read.info.version !== source.info.version) {
    read.stream.destroy();
    throw S3Errors.PreconditionFailed('the copy source changed while it was being copied; retry');
  }
  async function* bytes() {
    if (!read) return;
    for await (const c of read.stream) {
      md5.update(c as Buffer);
      yield c as Buffer;
    }
  }
  let stored: Attributes = {};
  const result = await backend.write(target, bytes(), {
    signal: ctx.signal,
    attributes: () => {
      stored = attributes(md5.digest('hex'));
      return stored;
    },
  });
  return { result, stored };
}

export async function copyObject(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  const key = checkKey(ctx);
  refuseUnsupported(ctx);
  const source = await copySource(ctx);
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw S3Errors.InvalidArgument('x-amz-metadata-directive is COPY or REPLACE');
  if (header(ctx, 'x-amz-tagging-directive')?.toUpperCase() === 'REPLACE')
    throw S3Errors.NotImplemented('object tagging is not supported');
  if (source.bucket === bucket && source.key === key && directive === 'COPY') {
    throw S3Errors.InvalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const meta =
    directive === 'REPLACE' ? metadataFromRequest(ctx) : metadataOf(source.info.attributes);
  const { result, stored } = await copyBytes(ctx, source, objectKey(bucket, key), (md5) => ({
    ...meta,
    ...checksumHeaders(source.info.attributes, true),
    etag: md5,
  }));
  sendXml(ctx, 200, 'CopyObjectResult', {
    ETag: `"${stored.etag}"`,
    LastModified: isoDate(result.modifiedAt),
  });
}
