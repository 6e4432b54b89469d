// The S3 API over a Backend: parses path-style (or virtual-host) requests, authenticates them,
// routes each to its operation and answers anything else with a proper S3 error.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../backend.js';
import { codeOf, InvalidArgumentError } from '../errors.js';
import { clientGone } from '../http/body.js';
import { type Listener, type ListenOptions, listen, type RequestHandler } from '../http/listen.js';
import type { CredentialsProvider } from '../keys.js';
import { type Logger, silentLogger } from '../logger.js';
import { authenticate } from './auth.js';
import {
  bucketLocation,
  bucketVersioning,
  createBucket,
  deleteBucket,
  headBucket,
  listBuckets,
} from './buckets.js';
import { completeMultipartUpload } from './complete.js';
import { type S3Context, type S3Settings, sendError } from './context.js';
import { deleteObjects } from './delete-objects.js';
import { S3Errors, toS3Error } from './errors.js';
import { listObjectsV1, listObjectsV2 } from './list-objects.js';
import {
  abortMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import { copyObject, deleteObject, getObject, putObject } from './objects.js';
import { UploadExpiry } from './upload-expiry.js';
import { toXml } from './xml.js';

export interface S3ServerOptions {
  backend: Backend;
  credentials: CredentialsProvider;
  /** The region clients sign for (default us-east-1). */
  region?: string;
  /** Top-level folders that are not buckets and cannot become one (default ['restic']). */
  reservedBuckets?: string[];
  /** Also serve virtual-host style requests to `<bucket>.<domain>` for these domains. */
  virtualHostDomains?: string[];
  /** Largest single PUT or part (default 5 GiB). */
  maxObjectSize?: number;
  /** Smallest part but the last (default 5 MiB, as S3). */
  minPartSize?: number;
  /** A CompleteMultipartUpload still assembling after this long answers 200 and sends spaces (default 5 s). */
  completeKeepAliveMs?: number;
  /**
   * A multipart upload begun longer ago than this is aborted, its parts deleted, when a request
   * or a listing comes to it (what an S3 lifecycle rule AbortIncompleteMultipartUpload does on a
   * bucket that has one). Default 7 days, the age past which the node's part spool sweeps parts
   * anyway; `Infinity`: never. Must be > 0.
   */
  uploadMaxAgeMs?: number;
  logger?: Logger;
  /** The clock for signature time checks and upload ages (tests). */
  now?: () => number;
}

/** Sub-resources we do not serve, on buckets or objects: NotImplemented, never a wrong answer. */
const UNSUPPORTED = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'versions',
  'website',
  'session',
  'renameObject',
];

type Op = (ctx: S3Context) => Promise<void>;

function route(ctx: S3Context): Op {
  const q = ctx.query;
  const method = ctx.req.method ?? 'GET';
  for (const name of q.keys()) {
    if (UNSUPPORTED.includes(name))
      return async () => {
        throw S3Errors.NotImplemented(`the ${name} sub-resource is not supported`);
      };
  }
  if (ctx.bucket === undefined) {
    if (method === 'GET') return listBuckets;
    return async () => {
      throw S3Errors.MethodNotAllowed();
    };
  }
  if (ctx.key === undefined) {
    switch (method) {
      case 'GET':
        if (q.has('location')) return bucketLocation;
        if (q.has('versioning')) return bucketVersioning;
        if (q.has('uploads')) return listMultipartUploads;
        if (q.get('list-type') === '2') return listObjectsV2;
        if (q.has('list-type'))
          return async () => {
            throw S3Errors.InvalidArgument('list-type must be 2');
          };
        return listObjectsV1;
      case 'HEAD':
        return headBucket;
      case 'PUT':
        if (q.has('versioning'))
          return async () => {
            throw S3Errors.NotImplemented('versioning cannot be enabled here');
          };
        return createBucket;
      case 'DELETE':
        return deleteBucket;
      case 'POST':
        if (q.has('delete')) return deleteObjects;
        break;
    }
    return async () => {
      throw S3Errors.MethodNotAllowed();
    };
  }
  const upload = q.has('uploadId');
  switch (method) {
    case 'GET':
      return upload ? listParts : (c) => getObject(c, true);
    case 'HEAD':
      return (c) => getObject(c, false);
    case 'PUT':
      if (q.has('partNumber') || upload)
        return ctx.req.headers['x-amz-copy-source'] ? uploadPartCopy : uploadPart;
      return ctx.req.headers['x-amz-copy-source'] ? copyObject : putObject;
    case 'DELETE':
      return upload ? abortMultipartUpload : deleteObject;
    case 'POST':
      if (q.has('uploads')) return createMultipartUpload;
      if (upload) return completeMultipartUpload;
      break;
  }
  return async () => {
    throw S3Errors.MethodNotAllowed();
  };
}

function splitTarget(req: IncomingMessage, domains: string[]) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw S3Errors.InvalidArgument('the path is not valid percent-encoding');
  }
  if (!path.startsWith('/'))
    throw S3Errors.InvalidRequest('the request target must be an absolute path');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const domain = domains.find((d) => host.endsWith(`.${d}`));
  let bucket: string | undefined;
  let key: string | undefined;
  if (domain) {
    bucket = host.slice(0, -(domain.length + 1));
    key = path.length > 1 ? path.slice(1) : undefined;
  } else {
    const rest = path.slice(1);
    const at = rest.indexOf('/');
    bucket = rest === '' ? undefined : at < 0 ? rest : rest.slice(0, at);
    const k = at < 0 ? '' : rest.slice(at + 1);
    key = k === '' ? undefined : k;
  }
  return { rawPath, rawQuery, path, bucket, key };
}

/** The age past which an incomplete upload is aborted: 7 days unless given; Infinity: never. */
function uploadMaxAge(ms: number | undefined): number {
  if (ms === undefined) return 7 * 24 * 3600_000;
  if (!(ms > 0)) {
    throw new InvalidArgumentError(
      'uploadMaxAgeMs must be a positive number of ms (Infinity: never)',
    );
  }
  return ms;
}

export function createS3Handler(options: S3ServerOptions): RequestHandler {
  const settings: S3Settings = {
    backend: options.backend,
    region: options.region ?? 'us-east-1',
    reservedBuckets: options.reservedBuckets ?? ['restic'],
    maxObjectSize: options.maxObjectSize ?? 5 * 1024 ** 3,
    minPartSize: options.minPartSize ?? 5 * 1024 * 1024,
    keepAliveMs: options.completeKeepAliveMs ?? 5_000,
    uploadMaxAgeMs: uploadMaxAge(options.uploadMaxAgeMs),
    expiry: new UploadExpiry(),
    now: options.now ?? Date.now,
    logger: options.logger ?? silentLogger,
  };
  const domains = (options.virtualHostDomains ?? []).map((d) => d.toLowerCase());
  const log = settings.logger;

  return (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('Server', 'peerstash');
    const started = Date.now();
    let resource = req.url ?? '/';
    const run = async () => {
      const target = splitTarget(req, domains);
      resource = target.path;
      const principal = await authenticate(
        req,
        {
          method: req.method ?? 'GET',
          rawPath: target.rawPath,
          path: target.path,
          rawQuery: target.rawQuery,
        },
        {
          credentials: options.credentials,
          region: settings.region,
          ...(options.now ? { now: options.now } : {}),
        },
      );
      const ctx: S3Context = {
        req,
        res,
        settings,
        principal,
        query: new URLSearchParams(target.rawQuery),
        ...(target.bucket !== undefined ? { bucket: target.bucket } : {}),
        ...(target.key !== undefined ? { key: target.key } : {}),
        requestId,
        signal: clientGone(res),
      };
      await route(ctx)(ctx);
    };
    run()
      .catch((err) => {
        const e = toS3Error(err);
        // A client that went away mid-answer is not a server fault.
        if (e.status >= 500 && codeOf(err) !== 'ERR_ABORTED' && !res.destroyed) {
          log.error({ err, method: req.method, url: req.url, requestId }, 's3 request failed');
        } else {
          log.debug(
            { code: e.s3Code, method: req.method, url: req.url, requestId },
            's3 request refused',
          );
        }
        if (!res.destroyed) sendError(req, res, e, requestId, resource);
      })
      .finally(() => {
        log.debug(
          { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started },
          's3',
        );
      });
  };
}

/** Starts the S3 server; `listen` as 'host:port' (default 127.0.0.1, port 0 = any free port). */
export async function startS3Server(options: S3ServerOptions & ListenOptions): Promise<Listener> {
  const xml = toXml(
    'Error',
    {
      Code: 'RequestHeaderSectionTooLarge',
      Message: 'Your request header section exceeds the maximum allowed size',
    },
    false,
  );
  const handler = createS3Handler(options);
  const listener = await listen(handler, {
    ...options,
    headerOverflowResponse: `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`,
  });
  // Authenticate before asking for the body: a refused upload is answered without its bytes.
  listener.server.on('checkContinue', handler);
  return listener;
}
