// A minimal S3 client for protocol tests: signs requests with @smithy/signature-v4 (the SDKs'
// signer) and sends them over node:http, so tests can also tamper with every part.

import { request as httpRequest } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { getSigningKey, SignatureV4 } from '@smithy/signature-v4';
import { encodeChunked } from './aws-chunked.js';

export class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SendOptions {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Payload hash to sign (default: SHA-256 of the body). */
  payloadHash?: string;
  signingDate?: Date;
  /** Change the request after signing (tamper tests). */
  after?: (r: { path: string; headers: Record<string, string> }) => void;
  region?: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function signer(creds: Creds, region = 'us-east-1') {
  return new SignatureV4({
    credentials: creds,
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
}

export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

export async function signed(base: string, creds: Creds, o: SendOptions) {
  const url = new URL(base);
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const headers: Record<string, string> = { host: url.host, ...(o.headers ?? {}) };
  if (body !== undefined && headers['content-length'] === undefined)
    headers['content-length'] = String(body.length);
  const req = {
    method: o.method ?? 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: encodePath(o.path),
    query: o.query ?? {},
    headers: {
      ...headers,
      ...(o.payloadHash ? { 'x-amz-content-sha256': o.payloadHash } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  };
  const s = await signer(creds, o.region).sign(req, { signingDate: o.signingDate ?? new Date() });
  if (!s.headers['x-amz-content-sha256']) {
    s.headers['x-amz-content-sha256'] =
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  }
  const qs = new URLSearchParams(o.query ?? {}).toString().replace(/\+/g, '%20');
  const out = {
    path: `${s.path}${qs ? `?${qs}` : ''}`,
    headers: s.headers as Record<string, string>,
  };
  o.after?.(out);
  return { ...out, body };
}

/** Sends raw: path (with query) and headers as given, body as a Buffer or an async source. */
export function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | AsyncIterable<Uint8Array>,
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    (async () => {
      for await (const c of body) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      req.end();
    })().catch((err) => req.destroy(err));
  });
}

export async function send(base: string, creds: Creds, o: SendOptions): Promise<Reply> {
  const s = await signed(base, creds, o);
  return raw(base, o.method ?? 'GET', s.path, s.headers, s.body);
}

export function errorCode(r: Reply): string | undefined {
  return (
    /<Code>([^<]+)<\/Code>/.exec(r.body.toString())?.[1] ??
    (r.headers['x-amz-error-code'] as string | undefined)
  );
}

export interface StreamingOptions {
  /** Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) or unsigned with a trailer. */
  mode: 'signed' | 'signed-trailer' | 'unsigned-trailer';
  chunkSizes?: number[];
  trailer?: [string, string];
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

const MODES = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'signed-trailer': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'unsigned-trailer': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
} as const;

/** A streaming (aws-chunked) PUT as an SDK sends it: headers signed, then each chunk chained. */
export async function streamingPut(
  base: string,
  creds: Creds,
  path: string,
  payload: Buffer,
  o: StreamingOptions,
) {
  const sizes = o.chunkSizes ?? [64 * 1024];
  const trailers = o.trailer ? [o.trailer] : undefined;
  const placeholder = {
    seedSignature: '0'.repeat(64),
    signingKey: Buffer.alloc(32),
    amzDate: '',
    scope: '',
  };
  const length = encodeChunked(
    payload,
    sizes,
    o.mode === 'unsigned-trailer' ? undefined : placeholder,
    trailers,
  ).length;
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'content-length': String(length),
    'x-amz-decoded-content-length': String(payload.length),
    ...(o.trailer ? { 'x-amz-trailer': o.trailer[0] } : {}),
    ...(o.headers ?? {}),
  };
  const s = await signed(base, creds, {
    method: 'PUT',
    path,
    headers,
    payloadHash: MODES[o.mode],
    ...(o.query ? { query: o.query } : {}),
  });
  const seedSignature = /Signature=([0-9a-f]{64})/.exec(s.headers.authorization!)![1]!;
  const amzDate = s.headers['x-amz-date']!;
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const signingKey = await getSigningKey(Sha256, creds, amzDate.slice(0, 8), 'us-east-1', 's3');
  const signing = { seedSignature, signingKey, amzDate, scope };
  const body = encodeChunked(
    payload,
    sizes,
    o.mode === 'unsigned-trailer' ? undefined : signing,
    trailers,
  );
  return { path: s.path, headers: s.headers, body };
}
