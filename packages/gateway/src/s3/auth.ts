// Authenticates an S3 request (Authorization header or presigned URL) against the access keys:
// scope, clock skew, expiry, every x-amz-* header signed, and how the payload is protected.

import type { IncomingMessage } from 'node:http';
import type { AccessKey, CredentialsProvider } from '../keys.js';
import type { ChunkSigning } from './chunked.js';
import { S3Errors } from './errors.js';
import {
  amzDateToMs,
  canonicalPath,
  expectedSignature,
  parseAuthorizationHeader,
  parsePresignedQuery,
  type SignedRequestAuth,
  sameHex,
  signingKey,
  UNSIGNED_PAYLOAD,
} from './sigv4.js';

export const MAX_SKEW_MS = 15 * 60 * 1000;

/** How the body's integrity is covered, as x-amz-content-sha256 (or a presigned URL) says. */
export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hex: string }
  | { kind: 'chunked'; signing?: ChunkSigning; trailers: string[] };

export interface Principal {
  key: AccessKey;
  payload: PayloadMode;
}

/** The parts of the request a signature covers, as received. */
export interface RequestTarget {
  method: string;
  /** Path as it came on the wire, before '?'. */
  rawPath: string;
  /** Percent-decoded path. */
  path: string;
  /** Query string as it came, without '?'. */
  rawQuery: string;
}

export interface AuthOptions {
  credentials: CredentialsProvider;
  /** The region clients must sign for (default us-east-1). */
  region: string;
  now?: () => number;
}

/** Query pairs decoded, with '+' read as a space or kept (clients differ; both are tried). */
function decodeQuery(raw: string, plusIsSpace: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const dec = (s: string) => decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
    let k: string;
    let v: string;
    try {
      k = dec(at < 0 ? pair : pair.slice(0, at));
      v = at < 0 ? '' : dec(pair.slice(at + 1));
    } catch {
      throw S3Errors.InvalidArgument('the query string is not valid percent-encoding');
    }
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function headerValue(req: IncomingMessage, name: string): string {
  const values = req.headersDistinct[name];
  return values ? values.map((v) => v.trim()).join(',') : '';
}

export async function authenticate(
  req: IncomingMessage,
  target: RequestTarget,
  options: AuthOptions,
): Promise<Principal> {
  const now = (options.now ?? Date.now)();
  const query = new URLSearchParams(target.rawQuery);
  const presigned = query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature');
  const header = req.headers.authorization;
  if (presigned && header) throw S3Errors.InvalidArgument('Only one auth mechanism allowed');
  if (!presigned && !header)
    throw S3Errors.AccessDenied('anonymous access is not allowed; sign the request');
  const amzDateHeader = req.headers['x-amz-date'];
  const auth = presigned
    ? parsePresignedQuery(query)
    : parseAuthorizationHeader(
        header!,
        Array.isArray(amzDateHeader) ? amzDateHeader[0] : amzDateHeader,
      );

  checkScope(auth, options.region);
  const signedAt = amzDateToMs(auth.amzDate);
  if (auth.via === 'header') {
    if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
      throw S3Errors.RequestTimeTooSkewed(undefined, {
        RequestTime: auth.amzDate,
        ServerTime: new Date(now).toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      });
    }
  } else {
    if (signedAt - now > MAX_SKEW_MS) throw S3Errors.AccessDenied('Request is not valid yet');
    if (now > signedAt + auth.expires! * 1000) throw S3Errors.AccessDenied('Request has expired');
  }
  if (!auth.signedHeaders.includes('host'))
    throw S3Errors.AccessDenied('the host header must be signed');
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !auth.signedHeaders.includes(name)) {
      throw S3Errors.AccessDenied(
        `There were headers present in the request which were not signed: ${name}`,
      );
    }
  }

  const key = await options.credentials.lookup(auth.accessKeyId);
  if (!key) throw S3Errors.InvalidAccessKeyId();

  const contentSha = req.headers['x-amz-content-sha256'];
  let payloadHash: string;
  if (auth.via === 'query') {
    payloadHash = query.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  } else {
    if (typeof contentSha !== 'string' || contentSha === '') {
      throw S3Errors.InvalidRequest(
        'Missing required header for this request: x-amz-content-sha256',
      );
    }
    payloadHash = contentSha;
  }

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = headerValue(req, name);
  const sk = await signingKey(key.accessKeyId, key.secretAccessKey, auth);
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/aws4_request`;
  const paths = [...new Set([canonicalPath(target.path), target.rawPath])];
  const queries = target.rawQuery.includes('+') ? [true, false] : [true];
  let matched = false;
  for (const path of paths) {
    for (const plusIsSpace of queries) {
      const sig = await expectedSignature(
        {
          method: target.method,
          path,
          query: decodeQuery(target.rawQuery, plusIsSpace),
          headers,
          payloadHash,
          amzDate: auth.amzDate,
          scope,
        },
        sk,
      );
      if (sameHex(sig, auth.signature)) matched = true;
    }
  }
  if (!matched) throw S3Errors.SignatureDoesNotMatch();
  return { key, payload: payloadMode(req, auth, payloadHash, sk, scope) };
}

function checkScope(auth: SignedRequestAuth, region: string): void {
  const malformed =
    auth.via === 'header'
      ? S3Errors.AuthorizationHeaderMalformed
      : S3Errors.AuthorizationQueryParametersError;
  if (auth.service !== 's3')
    throw malformed(`the credential scope's service must be s3, not ${auth.service}`);
  if (auth.region !== region) {
    throw malformed(`the region '${auth.region}' is wrong; expecting '${region}'`, {
      Region: region,
    });
  }
  if (auth.scopeDate !== auth.amzDate.slice(0, 8)) {
    throw malformed('the credential scope date does not match the request date');
  }
}

function payloadMode(
  req: IncomingMessage,
  auth: SignedRequestAuth,
  payloadHash: string,
  key: Uint8Array,
  scope: string,
): PayloadMode {
  const trailerHeader = req.headers['x-amz-trailer'];
  const trailers = (Array.isArray(trailerHeader) ? trailerHeader.join(',') : (trailerHeader ?? ''))
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const signing = { seedSignature: auth.signature, signingKey: key, amzDate: auth.amzDate, scope };
  switch (payloadHash) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'chunked', signing, trailers: [] };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'chunked', signing, trailers };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'chunked', trailers };
    default:
      if (/^[0-9a-f]{64}$/.test(payloadHash)) return { kind: 'sha256', hex: payloadHash };
      if (payloadHash.startsWith('STREAMING-')) {
        throw S3Errors.NotImplemented(`x-amz-content-sha256 ${payloadHash} is not supported`);
      }
      throw S3Errors.InvalidArgument(
        'x-amz-content-sha256 must be a SHA-256 hex digest or a known mode',
      );
  }
}
