// What every S3 operation gets (request, parsed target, principal, options) and the ways it
// answers: XML documents, empty replies, errors as S3 XML.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../backend.js';
import { drainAfterResponse } from '../http/body.js';
import type { Logger } from '../logger.js';
import type { Principal } from './auth.js';
import { type S3Error, S3Errors } from './errors.js';
import { bucketMarker, isValidBucketName } from './layout.js';
import type { UploadExpiry } from './upload-expiry.js';
import { toXml } from './xml.js';

export interface S3Settings {
  backend: Backend;
  region: string;
  reservedBuckets: string[];
  maxObjectSize: number;
  minPartSize: number;
  /** How often a long CompleteMultipartUpload sends a keep-alive space. */
  keepAliveMs: number;
  /** An upload begun longer ago than this is aborted (S3's AbortIncompleteMultipartUpload). */
  uploadMaxAgeMs: number;
  /** Removals of expired uploads (queued, one at a time each) and the Completes running. */
  expiry: UploadExpiry;
  now: () => number;
  logger: Logger;
}

export interface S3Context {
  req: IncomingMessage;
  res: ServerResponse;
  settings: S3Settings;
  principal: Principal;
  /** Decoded query parameters. */
  query: URLSearchParams;
  bucket?: string;
  /** Decoded object key (never empty when set). */
  key?: string;
  requestId: string;
  signal: AbortSignal;
}

export function sendXml(
  ctx: S3Context,
  status: number,
  root: string,
  body: Record<string, unknown>,
): void {
  const xml = toXml(root, body);
  ctx.res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(xml),
  });
  ctx.res.end(xml);
}

export function sendEmpty(
  ctx: S3Context,
  status = 200,
  headers: Record<string, string | number> = {},
): void {
  ctx.res.writeHead(status, { 'Content-Length': 0, ...headers });
  ctx.res.end();
}

/** Writes an S3 error (no body for HEAD), draining any body the client is still sending. */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: S3Error,
  requestId: string,
  resource: string,
): void {
  if (res.headersSent) {
    // Mid-body: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  drainAfterResponse(req, res);
  if (err.status === 304 || req.method === 'HEAD') {
    res.writeHead(err.status, { 'Content-Length': 0, 'x-amz-error-code': err.s3Code });
    res.end();
    return;
  }
  const xml = toXml(
    'Error',
    {
      Code: err.s3Code,
      Message: err.message,
      ...err.extra,
      Resource: resource,
      RequestId: requestId,
    },
    false,
  );
  res.writeHead(err.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(xml),
  });
  res.end(xml);
}

/** Throws AccessDenied unless the key may use this bucket (and write, when asked). */
export function allow(ctx: S3Context, write: boolean): void {
  const { key } = ctx.principal;
  if (key.bucket !== undefined && ctx.bucket !== undefined && key.bucket !== ctx.bucket)
    throw S3Errors.AccessDenied();
  if (write && key.readOnly) throw S3Errors.AccessDenied('this access key is read-only');
}

/** NoSuchBucket unless the bucket has its marker. */
export async function requireBucket(ctx: S3Context): Promise<string> {
  const bucket = ctx.bucket!;
  if (!isValidBucketName(bucket)) throw S3Errors.NoSuchBucket();
  const marker = await ctx.settings.backend.stat(bucketMarker(bucket), { signal: ctx.signal });
  if (!marker) throw S3Errors.NoSuchBucket();
  return bucket;
}

/** The one value of a header (the first if repeated). */
export function header(ctx: S3Context, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** Sends "100 Continue" to a client waiting for it, once the request is known to be accepted. */
export function continueIfExpected(ctx: S3Context): void {
  if (header(ctx, 'expect')?.toLowerCase() === '100-continue' && !ctx.res.headersSent)
    ctx.res.writeContinue();
}
