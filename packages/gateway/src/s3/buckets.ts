// Bucket operations: a bucket is the top-level folder of its name, and exists when its marker
// record under '.s3/buckets/' does (so an empty bucket survives and listing buckets is cheap).

import { allow, isoDate, requireBucket, type S3Context, sendEmpty, sendXml } from './context.js';
import { S3Errors } from './errors.js';
import {
  BUCKETS_PREFIX,
  bucketFolder,
  bucketMarker,
  isValidBucketName,
  uploadsFolder,
} from './layout.js';
import { readXml, text } from './xml.js';

export const OWNER = { ID: 'peerstash', DisplayName: 'peerstash' };

export async function listBuckets(ctx: S3Context): Promise<void> {
  const { backend } = ctx.settings;
  const restricted = ctx.principal.key.bucket;
  const buckets: { Name: string; CreationDate: string }[] = [];
  let after: string | undefined;
  do {
    const page = await backend.list({
      prefix: BUCKETS_PREFIX,
      after,
      limit: 1000,
      signal: ctx.signal,
    });
    for (const e of page.entries) {
      const name = e.key.slice(BUCKETS_PREFIX.length);
      if (restricted !== undefined && name !== restricted) continue;
      buckets.push({ Name: name, CreationDate: isoDate(e.modifiedAt) });
    }
    after = page.next;
  } while (after);
  sendXml(ctx, 200, 'ListAllMyBucketsResult', { Owner: OWNER, Buckets: { Bucket: buckets } });
}

export async function createBucket(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = ctx.bucket!;
  if (!isValidBucketName(bucket)) throw S3Errors.InvalidBucketName();
  if (ctx.settings.reservedBuckets.includes(bucket)) {
    throw S3Errors.BucketAlreadyExists(`the folder ${bucket}/ is used by another front end`);
  }
  if (Number(ctx.req.headers['content-length'] ?? 0) > 0 || ctx.req.headers['transfer-encoding']) {
    const xml = await readXml(ctx.req, 64 * 1024);
    const conf = xml.CreateBucketConfiguration as Record<string, unknown> | undefined;
    const location = text(conf?.LocationConstraint);
    if (location && location !== ctx.settings.region) {
      throw S3Errors.InvalidArgument(`this endpoint serves region ${ctx.settings.region}`, {
        ArgumentName: 'LocationConstraint',
        ArgumentValue: location,
      });
    }
  }
  if (ctx.req.headers['x-amz-bucket-object-lock-enabled'] === 'true') {
    throw S3Errors.NotImplemented('object lock is not supported');
  }
  const { backend } = ctx.settings;
  if (await backend.stat(bucketMarker(bucket), { signal: ctx.signal }))
    throw S3Errors.BucketAlreadyOwnedByYou();
  await backend.write(bucketMarker(bucket), (async function* () {})(), {
    signal: ctx.signal,
    attributes: () => ({ 'created-by': 'peerstash-gateway' }),
  });
  sendEmpty(ctx, 200, { Location: `/${bucket}` });
}

export async function headBucket(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  await requireBucket(ctx);
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': ctx.settings.region });
}

export async function bucketLocation(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  await requireBucket(ctx);
  // us-east-1 is reported as an empty constraint, as S3 does.
  const region = ctx.settings.region === 'us-east-1' ? '' : ctx.settings.region;
  sendXml(ctx, 200, 'LocationConstraint', { '#text': region });
}

/** Versioning was never enabled: the truthful answer is an empty configuration. */
export async function bucketVersioning(ctx: S3Context): Promise<void> {
  allow(ctx, false);
  await requireBucket(ctx);
  sendXml(ctx, 200, 'VersioningConfiguration', {});
}

export async function deleteBucket(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const bucket = await requireBucket(ctx);
  const { backend } = ctx.settings;
  const page = await backend.list({ prefix: bucketFolder(bucket), limit: 1, signal: ctx.signal });
  if (page.entries.length > 0 || page.prefixes.length > 0) throw S3Errors.BucketNotEmpty();
  const uploads = await backend.list({
    prefix: uploadsFolder(bucket),
    limit: 1,
    signal: ctx.signal,
  });
  if (uploads.entries.length > 0) {
    throw S3Errors.BucketNotEmpty('the bucket has multipart uploads in progress; abort them first');
  }
  await backend.delete(bucketMarker(bucket), { signal: ctx.signal });
  sendEmpty(ctx, 204);
}
