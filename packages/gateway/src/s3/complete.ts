// CompleteMultipartUpload: checks the client's part list against the stored parts, then makes the
// object from them with the backend's compose (no second pass) or by streaming them in order.

import { createHash } from 'node:crypto';
import type { Attributes, ObjectInfo } from '../backend.js';
import { algorithmOfHeader, type ChecksumAlgorithm, createChecksum } from './checksums.js';
import { allow, type S3Context } from './context.js';
import { S3Errors, toS3Error } from './errors.js';
import { objectKey } from './layout.js';
import { metadataOf } from './metadata.js';
import { MAX_PARTS, partNumberOfKey, partsOf, removeUpload, uploadOf } from './multipart.js';
import { readXml, text, toXml } from './xml.js';

interface WantedPart {
  number: number;
  etag: string;
  checksums: Record<string, string>;
}

function wantedParts(xml: Record<string, unknown>): WantedPart[] {
  const root = xml.CompleteMultipartUpload as { Part?: unknown[] } | undefined;
  const parts = root?.Part;
  if (!Array.isArray(parts) || parts.length === 0)
    throw S3Errors.MalformedXML('the upload lists no parts');
  if (parts.length > MAX_PARTS) throw S3Errors.MalformedXML(`more than ${MAX_PARTS} parts`);
  return parts.map((p) => {
    const part = p as Record<string, unknown>;
    const number = Number(text(part.PartNumber));
    const etag = (text(part.ETag) ?? '').trim().replace(/^"|"$/g, '');
    if (!Number.isInteger(number) || number < 1 || number > MAX_PARTS || !etag) {
      throw S3Errors.MalformedXML('each Part needs a PartNumber and an ETag');
    }
    const checksums: Record<string, string> = {};
    for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256']) {
      const v = text(part[`Checksum${alg}`]);
      if (v) checksums[`x-amz-checksum-${alg.toLowerCase()}`] = v;
    }
    return { number, etag, checksums };
  });
}

/**
 * The COMPOSITE checksum S3 gives a multipart object (the checksum of the parts' checksums, then
 * "-n"), kept when every part carries one; a full-object checksum asked on Complete is checked
 * against it and any other kind is refused rather than ignored.
 */
function compositeChecksum(
  ctx: S3Context,
  declared: string | undefined,
  parts: ObjectInfo[],
): Attributes {
  const sent = Object.keys(ctx.req.headers).filter(
    (h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type',
  );
  const algorithm = (declared ?? (sent[0] ? algorithmOfHeader(sent[0]) : undefined)) as
    | ChecksumAlgorithm
    | undefined;
  if (!algorithm) return {};
  const name = `x-amz-checksum-${algorithm}`;
  const c = createChecksum(algorithm);
  for (const p of parts) {
    const v = p.attributes[name];
    if (v === undefined) {
      if (sent.length > 0)
        throw S3Errors.InvalidRequest(`every part needs ${name} for this checksum`);
      return {};
    }
    c.update(Buffer.from(v, 'base64'));
  }
  const value = `${c.digest()}-${parts.length}`;
  for (const h of sent) {
    const want = ctx.req.headers[h];
    if (h !== name || typeof want !== 'string' || !want.includes('-')) {
      throw S3Errors.NotImplemented('full-object checksums of multipart uploads are not supported');
    }
    if (want !== value)
      throw S3Errors.BadDigest(`the ${algorithm} of the parts' checksums is ${value}`);
  }
  return { [name]: value };
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * A long assembly answers 200 early and keeps the connection alive with spaces, as S3 does. The
 * XML declaration goes first (parsers refuse anything before it), the document after the spaces.
 */
function keepAlive(ctx: S3Context): () => void {
  const timer = setInterval(() => {
    if (!ctx.res.headersSent) {
      ctx.res.writeHead(200, { 'Content-Type': 'application/xml' });
      ctx.res.write(`${DECLARATION}\n`);
    }
    ctx.res.write(' ');
  }, ctx.settings.keepAliveMs);
  return () => clearInterval(timer);
}

/** The rest of a document whose declaration keepAlive already sent. */
function afterDeclaration(xml: string): string {
  return xml.startsWith(DECLARATION) ? xml.slice(DECLARATION.length) : xml;
}

export async function completeMultipartUpload(ctx: S3Context): Promise<void> {
  allow(ctx, true);
  const upload = await uploadOf(ctx);
  // an expiry that comes while the parts are assembled leaves them to this Complete
  const done = ctx.settings.expiry.completing(upload.uploadId);
  try {
    await complete(ctx, upload);
  } finally {
    done();
  }
}

async function complete(
  ctx: S3Context,
  { bucket, key, uploadId, record }: Awaited<ReturnType<typeof uploadOf>>,
): Promise<void> {
  const wanted = wantedParts(await readXml(ctx.req));
  for (let i = 1; i < wanted.length; i++) {
    if (wanted[i]!.number <= wanted[i - 1]!.number) throw S3Errors.InvalidPartOrder();
  }
  const stored = new Map<number, ObjectInfo>();
  for await (const p of partsOf(ctx, uploadId)) stored.set(partNumberOfKey(p.key), p);
  const chosen: ObjectInfo[] = [];
  const md5s: Buffer[] = [];
  wanted.forEach((w, i) => {
    const p = stored.get(w.number);
    if (!p || (p.attributes.etag ?? '') !== w.etag) {
      throw S3Errors.InvalidPart(`part ${w.number} was not uploaded or its ETag does not match`);
    }
    for (const [name, value] of Object.entries(w.checksums)) {
      if (p.attributes[name] !== value)
        throw S3Errors.InvalidPart(`part ${w.number}'s ${name} does not match`);
    }
    if (i < wanted.length - 1 && p.size < ctx.settings.minPartSize) {
      throw S3Errors.EntityTooSmall(
        `part ${w.number} is ${p.size} bytes; all but the last must be at least ${ctx.settings.minPartSize}`,
      );
    }
    chosen.push(p);
    md5s.push(Buffer.from(p.attributes.etag!, 'hex'));
  });
  const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${chosen.length}`;
  const attributes: Attributes = {
    ...metadataOf(record.attributes),
    etag,
    'mp-parts': String(chosen.length),
    ...compositeChecksum(ctx, record.attributes['checksum-algorithm'], chosen),
  };
  const target = objectKey(bucket, key);
  const { backend } = ctx.settings;
  const stop = keepAlive(ctx);
  const started = performance.now();
  try {
    if (backend.compose) {
      await backend.compose(
        target,
        chosen.map((p) => p.key),
        { attributes, signal: ctx.signal },
      );
    } else {
      async function* concatenated() {
        for (const p of chosen) {
          const r = await backend.read(p.key, { signal: ctx.signal });
          if (r.info.version !== p.version) {
            r.stream.destroy();
            throw S3Errors.InvalidPart(`part ${partNumberOfKey(p.key)} changed while completing`);
          }
          for await (const c of r.stream) yield c as Buffer;
        }
      }
      await backend.write(target, concatenated(), {
        attributes: () => attributes,
        signal: ctx.signal,
      });
    }
    const assembled = performance.now();
    await removeUpload(
      ctx,
      bucket,
      key,
      uploadId,
      new Set(backend.compose ? chosen.map((p) => p.key) : []),
    );
    ctx.settings.logger.debug(
      {
        parts: chosen.length,
        composed: Boolean(backend.compose),
        assembleMs: Math.round(assembled - started),
        cleanupMs: Math.round(performance.now() - assembled),
      },
      's3 multipart complete',
    );
  } catch (err) {
    stop();
    if (!ctx.res.headersSent) throw err;
    // Headers are out (keep-alive): the error travels in the 200 body, as S3 does it.
    const e = toS3Error(err);
    ctx.res.end(
      afterDeclaration(
        toXml('Error', { Code: e.s3Code, Message: e.message, RequestId: ctx.requestId }, false),
      ),
    );
    return;
  }
  stop();
  const xml = toXml('CompleteMultipartUploadResult', {
    Location: `/${bucket}/${key}`,
    Bucket: bucket,
    Key: key,
    ETag: `"${etag}"`,
  });
  if (ctx.res.headersSent) {
    ctx.res.end(afterDeclaration(xml));
    return;
  }
  ctx.res.writeHead(200, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(xml),
  });
  ctx.res.end(xml);
}
