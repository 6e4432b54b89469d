// AWS Signature V4 for S3: parses the Authorization header or presigned query, and recomputes
// the signature with @smithy/signature-v4's canonicalisation (the SDKs' own code) to compare.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { getCanonicalHeaders, getSigningKey, SignatureV4 } from '@smithy/signature-v4';
import { S3Errors } from './errors.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** SHA-256 (and HMAC-SHA256 with a secret) in the constructor shape the signer expects. */
export class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** The credential scope and signature a request carries, from either place. */
export interface SignedRequestAuth {
  via: 'header' | 'query';
  accessKeyId: string;
  /** YYYYMMDD */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** YYYYMMDDTHHMMSSZ */
  amzDate: string;
  /** Presigned only: seconds the URL is valid for. */
  expires?: number;
}

const CREDENTIAL = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

function parseCredential(value: string, malformed: (d: string) => Error) {
  const m = CREDENTIAL.exec(value);
  if (!m)
    throw malformed(`credential "${value}" is not <key>/<date>/<region>/<service>/aws4_request`);
  return { accessKeyId: m[1]!, scopeDate: m[2]!, region: m[3]!, service: m[4]! };
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` */
export function parseAuthorizationHeader(
  value: string,
  amzDate: string | undefined,
): SignedRequestAuth {
  const malformed = (d: string) => S3Errors.AuthorizationHeaderMalformed(d);
  if (!value.startsWith(`${ALGORITHM} `)) {
    throw S3Errors.InvalidRequest(
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const at = part.indexOf('=');
    if (at < 0) throw malformed('authorization header fields are name=value');
    fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signed || !signature) {
    throw malformed('Credential, SignedHeaders and Signature are all required');
  }
  if (!HEX64.test(signature)) throw malformed('Signature must be 64 lowercase hex characters');
  if (!amzDate || !AMZ_DATE.test(amzDate))
    throw S3Errors.AccessDenied('x-amz-date is missing or malformed');
  return {
    via: 'header',
    ...parseCredential(credential, malformed),
    signedHeaders: signed.split(';'),
    signature,
    amzDate,
  };
}

/** The X-Amz-* parameters of a presigned URL. */
export function parsePresignedQuery(query: URLSearchParams): SignedRequestAuth {
  const bad = (d: string) => S3Errors.AuthorizationQueryParametersError(d);
  if (query.get('X-Amz-Algorithm') !== ALGORITHM)
    throw bad('X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const expires = query.get('X-Amz-Expires');
  const signed = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !amzDate || !expires || !signed || !signature) {
    throw bad('X-Amz-Credential, -Date, -Expires, -SignedHeaders and -Signature are all required');
  }
  if (!AMZ_DATE.test(amzDate)) throw bad('X-Amz-Date must be YYYYMMDDTHHMMSSZ');
  const seconds = Number(expires);
  if (!/^\d+$/.test(expires) || seconds < 1 || seconds > 604_800) {
    throw bad('X-Amz-Expires must be between 1 and 604800 seconds');
  }
  if (!HEX64.test(signature)) throw bad('X-Amz-Signature must be 64 lowercase hex characters');
  return {
    via: 'query',
    ...parseCredential(credential, bad),
    signedHeaders: signed.split(';'),
    signature,
    amzDate,
    expires: seconds,
  };
}

export function amzDateToMs(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX. */
export function awsUriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The canonical URI S3 expects: each decoded path segment encoded again, slashes kept. */
export function canonicalPath(decodedPath: string): string {
  return decodedPath.split('/').map(awsUriEncode).join('/');
}

/** What a signature covers, as the server sees the request. */
export interface CanonicalInput {
  method: string;
  /** Canonical URI (already encoded). */
  path: string;
  /** Decoded query parameters (X-Amz-Signature is skipped by the canonicaliser). */
  query: Record<string, string | string[]>;
  /** Lower-case names of the signed headers → their values. */
  headers: Record<string, string>;
  payloadHash: string;
  amzDate: string;
  /** `date/region/service/aws4_request` */
  scope: string;
}

class Canonicaliser extends SignatureV4 {
  constructor() {
    super({
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      region: 'unused',
      service: 's3',
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  async stringToSign(input: CanonicalInput): Promise<string> {
    const request = {
      method: input.method,
      protocol: 'http:',
      hostname: input.headers.host ?? '',
      path: input.path,
      query: input.query,
      headers: input.headers,
    };
    const signed = new Set(Object.keys(input.headers));
    // Signed headers are taken as signed even when the signer would never sign them itself.
    const canonical = getCanonicalHeaders(request, undefined, signed);
    const canonicalRequest = this.createCanonicalRequest(request, canonical, input.payloadHash);
    return this.createStringToSign(input.amzDate, input.scope, canonicalRequest, ALGORITHM);
  }
}

const canonicaliser = new Canonicaliser();

/** The signing key of (secret, date, region, service), cached by the signer package. */
export async function signingKey(
  accessKeyId: string,
  secretAccessKey: string,
  auth: Pick<SignedRequestAuth, 'scopeDate' | 'region' | 'service'>,
): Promise<Uint8Array> {
  return getSigningKey(
    Sha256,
    { accessKeyId, secretAccessKey },
    auth.scopeDate,
    auth.region,
    auth.service,
  );
}

export function hmacHex(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The signature the request should carry. */
export async function expectedSignature(input: CanonicalInput, key: Uint8Array): Promise<string> {
  return hmacHex(key, await canonicaliser.stringToSign(input));
}
