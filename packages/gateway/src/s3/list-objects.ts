// ListObjects (V1, markers) and ListObjectsV2 (continuation tokens, start-after), with prefix,
// delimiter, max-keys and URL encoding, paged straight from the backend's ordered listing.

import type { ObjectInfo } from '../backend.js';
import { OWNER } from './buckets.js';
import { allow, isoDate, requireBucket, type S3Context, sendXml } from './context.js';
import { S3Errors } from './errors.js';
import { bucketFolder } from './layout.js';
import { etagOf } from './metadata.js';
import { awsUriEncode } from './sigv4.js';

const MAX_KEYS = 1000;

function maxKeysOf(ctx: S3Context, name = 'max-keys'): number {
  const v = ctx.query.get(name);
  if (v === null) return MAX_KEYS;
  if (!/^\d+$/.test(v)) throw S3Errors.InvalidArgument(`${name} must be a non-negative integer`);
  return Math.min(Number(v), MAX_KEYS);
}

function encoderOf(ctx: S3Context): (s: string) => string {
  const enc = ctx.query.get('encoding-type');
  if (enc === null) return (s) => s;
  if (enc !== 'url') throw S3Errors.InvalidArgument('encoding-type must be url');
  return (s) => s.split('/').map(awsUriEncode).join('/');
}

function encodeToken(after: string): string {
  return Buffer.from(after, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token))
    throw S3Errors.InvalidArgument('The continuation token provided is incorrect');
  return Buffer.from(token, 'base64url').toString('utf8');
}

interface Page {
  contents: ObjectInfo[];
  prefixes: string[];
  /** Relative to the bucket. */
  next?: string;
}

async function listPage(
  ctx: S3Context,
  bucket: string,
  prefix: string,
  delimiter: string,
  after: string | undefined,
  limit: number,
): Promise<Page> {
  if (limit === 0) return { contents: [], prefixes: [] };
  const folder = bucketFolder(bucket);
  const page = await ctx.settings.backend.list({
    prefix: folder + prefix,
    ...(delimiter ? { delimiter } : {}),
    ...(after !== undefined && after !== '' ? { after: folder + after } : {}),
    limit,
    signal: ctx.signal,
  });
  return {
    contents: page.entries,
    prefixes: page.prefixes.map((p) => p.slice(folder.length)),
    ...(page.next !== undefined ? { next: page.next.slice(folder.length) } : {}),
  };
}

function contents(page: Page, folder: string, enc: (s: string) => string, owner: boolean) {
  return page.contents.map((e) => ({
    Key: enc(e.key.slice(folder.length)),
    LastModified: isoDate(e.modifiedAt),
    ETag: `"${etagOf(e)}"`,
    Size: e.size,
    ...(owner ? { Owner: OWNER } : {}),
    StorageClass: 'STANDARD',
  }));
}

export async function listObjectsV2(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  const bucket = await requireBucket(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after');
  const maxKeys = maxKeysOf(ctx);
  const enc = encoderOf(ctx);
  const after = token !== null ? decodeToken(token) : (startAfter ?? undefined);
  const page = await listPage(ctx, bucket, prefix, delimiter, after, maxKeys);
  sendXml(ctx, 200, 'ListBucketResult', {
    Name: bucket,
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxKeys: maxKeys,
    ...(ctx.query.get('encoding-type') ? { EncodingType: 'url' } : {}),
    KeyCount: page.contents.length + page.prefixes.length,
    IsTruncated: page.next !== undefined,
    ...(token !== null ? { ContinuationToken: token } : {}),
    ...(page.next !== undefined ? { NextContinuationToken: encodeToken(page.next) } : {}),
    ...(startAfter !== null ? { StartAfter: enc(startAfter) } : {}),
    Contents: contents(page, bucketFolder(bucket), enc, ctx.query.get('fetch-owner') === 'true'),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
  });
}

export async function listObjectsV1(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  const bucket = await requireBucket(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = maxKeysOf(ctx);
  const enc = encoderOf(ctx);
  const page = await listPage(ctx, bucket, prefix, delimiter, marker || undefined, maxKeys);
  sendXml(ctx, 200, 'ListBucketResult', {
    Name: bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    ...(ctx.query.get('encoding-type') ? { EncodingType: 'url' } : {}),
    IsTruncated: page.next !== undefined,
    // S3 sends NextMarker only with a delimiter; sending it always saves clients a guess.
    ...(page.next !== undefined ? { NextMarker: enc(page.next) } : {}),
    Contents: contents(page, bucketFolder(bucket), enc, true),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
  });
}
