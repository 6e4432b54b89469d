// Object metadata between S3 headers and backend attributes (standard headers, x-amz-meta-*,
// ETag, checksums), conditional requests, and refusing request headers we do not implement.

import type { Attributes, ObjectInfo } from '../backend.js';
import { header, httpDate, type S3Context } from './context.js';
import { S3Errors } from './errors.js';

const STORED_HEADERS = [
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;

const MAX_USER_METADATA = 2048;

/** The attributes a PUT / CreateMultipartUpload stores from its request headers. */
export function metadataFromRequest(ctx: S3Context): Attributes {
  const out: Attributes = {};
  for (const name of STORED_HEADERS) {
    let value = header(ctx, name);
    if (name === 'content-encoding' && value) {
      // aws-chunked is the transfer framing, not the object's encoding.
      value = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v && v !== 'aws-chunked')
        .join(', ');
    }
    if (value) out[name] = value;
  }
  let userBytes = 0;
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const v = Array.isArray(value) ? value.join(',') : (value ?? '');
    userBytes += name.length - 'x-amz-meta-'.length + v.length;
    out[name] = v;
  }
  if (userBytes > MAX_USER_METADATA) throw S3Errors.MetadataTooLarge();
  return out;
}

/** Only the metadata part of stored attributes (for CopyObject's COPY directive). */
export function metadataOf(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (k.startsWith('x-amz-meta-') || (STORED_HEADERS as readonly string[]).includes(k))
      out[k] = v;
  }
  return out;
}

/** The ETag without quotes: the MD5 the gateway stored, or the version for other writers. */
export function etagOf(info: ObjectInfo): string {
  return info.attributes.etag ?? info.version;
}

/** Response headers describing an object (GET and HEAD). */
export function objectHeaders(ctx: S3Context, info: ObjectInfo): Record<string, string | number> {
  const out: Record<string, string | number> = {
    ETag: `"${etagOf(info)}"`,
    'Last-Modified': httpDate(info.modifiedAt),
    'Content-Type': info.attributes['content-type'] ?? 'binary/octet-stream',
    'Accept-Ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(info.attributes)) {
    if (
      k.startsWith('x-amz-meta-') ||
      (k !== 'content-type' && (STORED_HEADERS as readonly string[]).includes(k))
    ) {
      out[k] = v;
    }
  }
  if (info.attributes['mp-parts']) out['x-amz-mp-parts-count'] = info.attributes['mp-parts'];
  if (header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    for (const [k, v] of Object.entries(info.attributes))
      if (k.startsWith('x-amz-checksum-')) out[k] = v;
  }
  // response-* query parameters override the stored headers (signed requests only, as S3).
  for (const name of [
    'content-type',
    'content-language',
    'expires',
    'cache-control',
    'content-disposition',
    'content-encoding',
  ]) {
    const v = ctx.query.get(`response-${name}`);
    if (v !== null) out[name === 'content-type' ? 'Content-Type' : name] = v;
  }
  return out;
}

function matchesEtag(list: string, etag: string): boolean {
  return list
    .split(',')
    .map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((t) => t === '*' || t === etag);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * RFC 9110 §13.2.2 order, as S3 applies it: If-Match, else If-Unmodified-Since (412);
 * If-None-Match, else If-Modified-Since (304 for GET/HEAD). Dates compare at one-second grain.
 */
export function checkConditions(ctx: S3Context, info: ObjectInfo, prefix = ''): void {
  const etag = etagOf(info);
  const modified = Math.floor(info.modifiedAt / 1000) * 1000;
  const ifMatch = header(ctx, `${prefix}if-match`);
  const ifNoneMatch = header(ctx, `${prefix}if-none-match`);
  const ifUnmodified = parseHttpDate(header(ctx, `${prefix}if-unmodified-since`));
  const ifModified = parseHttpDate(header(ctx, `${prefix}if-modified-since`));
  if (ifMatch !== undefined) {
    if (!matchesEtag(ifMatch, etag)) throw S3Errors.PreconditionFailed();
  } else if (ifUnmodified !== undefined && modified > ifUnmodified) {
    throw S3Errors.PreconditionFailed();
  }
  // For the copy source (x-amz-copy-source-if-*), every failure is 412.
  const notModified = prefix ? S3Errors.PreconditionFailed : S3Errors.NotModified;
  if (ifNoneMatch !== undefined) {
    if (matchesEtag(ifNoneMatch, etag)) throw notModified();
  } else if (ifModified !== undefined && modified <= ifModified) {
    throw notModified();
  }
}

/** Refuses request headers that ask for behaviour this gateway does not have. */
export function refuseUnsupported(ctx: S3Context): void {
  const h = ctx.req.headers;
  const sse = header(ctx, 'x-amz-server-side-encryption');
  if (sse !== undefined && sse !== 'AES256') {
    throw S3Errors.NotImplemented(
      'only AES256 server-side encryption (always on here) is available',
    );
  }
  if (
    Object.keys(h).some(
      (n) =>
        n.startsWith('x-amz-server-side-encryption-customer') ||
        n.startsWith('x-amz-server-side-encryption-aws-kms'),
    )
  ) {
    throw S3Errors.NotImplemented('customer-provided and KMS encryption keys are not supported');
  }
  const acl = header(ctx, 'x-amz-acl');
  if (acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control') {
    throw S3Errors.NotImplemented(
      `canned ACL ${acl} is not supported (objects are private to the cluster's keys)`,
    );
  }
  if (Object.keys(h).some((n) => n.startsWith('x-amz-grant-')))
    throw S3Errors.NotImplemented('ACL grants are not supported');
  if (Object.keys(h).some((n) => n.startsWith('x-amz-object-lock-')))
    throw S3Errors.NotImplemented('object lock is not supported');
  if (h['x-amz-tagging'] !== undefined)
    throw S3Errors.NotImplemented('object tagging is not supported');
  if (h['x-amz-website-redirect-location'] !== undefined)
    throw S3Errors.NotImplemented('website redirects are not supported');
  const storage = header(ctx, 'x-amz-storage-class');
  if (storage !== undefined && storage !== 'STANDARD') {
    throw S3Errors.NotImplemented(
      `storage class ${storage} is not offered; every object is STANDARD`,
    );
  }
  if (
    ctx.req.method === 'PUT' &&
    (h['if-match'] !== undefined || h['if-none-match'] !== undefined)
  ) {
    throw S3Errors.NotImplemented('conditional writes are not supported');
  }
}
