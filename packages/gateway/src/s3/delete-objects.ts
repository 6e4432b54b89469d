// DeleteObjects: up to 1000 keys in one XML request, its Content-MD5 or checksum verified first,
// answered per key (quiet mode lists only the failures).

import { createHash } from 'node:crypto';
import { readBody } from '../http/body.js';
import { algorithmOfHeader, createChecksum } from './checksums.js';
import { allow, header, requireBucket, type S3Context, sendXml } from './context.js';
import { S3Errors, toS3Error } from './errors.js';
import { objectKey } from './layout.js';
import { MAX_XML_BODY, parseXml, text } from './xml.js';

export async function deleteObjects(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  let body: Buffer;
  try {
    body = await readBody(ctx.req, MAX_XML_BODY);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_LIMIT') throw S3Errors.MaxMessageLengthExceeded();
    throw err;
  }
  const md5 = header(ctx, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5)
    throw S3Errors.BadDigest();
  for (const name of Object.keys(ctx.req.headers)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type') continue;
    const c = createChecksum(algorithmOfHeader(name));
    c.update(body);
    if (c.digest() !== header(ctx, name)) throw S3Errors.BadDigest();
  }
  const root = parseXml(body).Delete as { Object?: unknown[]; Quiet?: unknown } | undefined;
  const objects = root?.Object;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > 1000) {
    throw S3Errors.MalformedXML('Delete lists 1 to 1000 Object elements');
  }
  const quiet = text(root?.Quiet) === 'true';
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const o of objects) {
    const key = text((o as Record<string, unknown>).Key) ?? '';
    const version = text((o as Record<string, unknown>).VersionId);
    if (key === '') throw S3Errors.MalformedXML('an Object has no Key');
    try {
      if (version !== undefined && version !== 'null')
        throw S3Errors.NotImplemented('object versions are not supported');
      if (Buffer.byteLength(key) > 1024) throw S3Errors.KeyTooLongError();
      await ctx.settings.backend.delete(objectKey(bucket, key), { signal: ctx.signal });
      deleted.push({ Key: key });
    } catch (err) {
      const e = toS3Error(err);
      errors.push({ Key: key, Code: e.s3Code, Message: e.message });
    }
  }
  sendXml(ctx, 200, 'DeleteResult', { ...(quiet ? {} : { Deleted: deleted }), Error: errors });
}
