// S3 error answers: the code, HTTP status and message S3 clients branch on, and the mapping of
// backend and gateway error codes onto them.

import { codeOf } from '../errors.js';

export class S3Error extends Error {
  readonly s3Code: string;
  readonly status: number;
  /** Extra elements for the XML body (e.g. the expected region). */
  readonly extra: Record<string, string>;
  /** The gateway's own stable code, for logs and tests. */
  readonly code: string;

  constructor(
    s3Code: string,
    status: number,
    message: string,
    extra: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'S3Error';
    this.s3Code = s3Code;
    this.status = status;
    this.extra = extra;
    this.code = 'ERR_S3';
  }
}

const e =
  (code: string, status: number, message: string) =>
  (detail?: string, extra?: Record<string, string>) =>
    new S3Error(code, status, detail ?? message, extra);

export const S3Errors = {
  AccessDenied: e('AccessDenied', 403, 'Access Denied'),
  AuthorizationHeaderMalformed: e(
    'AuthorizationHeaderMalformed',
    400,
    'The authorization header is malformed',
  ),
  AuthorizationQueryParametersError: e(
    'AuthorizationQueryParametersError',
    400,
    'Query-string authentication parameters are malformed',
  ),
  BadDigest: e(
    'BadDigest',
    400,
    'The Content-MD5 or checksum you specified did not match what we received',
  ),
  BucketAlreadyExists: e('BucketAlreadyExists', 409, 'The requested bucket name is not available'),
  BucketAlreadyOwnedByYou: e(
    'BucketAlreadyOwnedByYou',
    409,
    'Your previous request to create the named bucket succeeded and you already own it',
  ),
  BucketNotEmpty: e('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty'),
  EntityTooLarge: e('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size'),
  EntityTooSmall: e(
    'EntityTooSmall',
    400,
    'Your proposed upload is smaller than the minimum allowed object size',
  ),
  IncompleteBody: e(
    'IncompleteBody',
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header',
  ),
  InternalError: e('InternalError', 500, 'We encountered an internal error. Please try again.'),
  InvalidAccessKeyId: e(
    'InvalidAccessKeyId',
    403,
    'The AWS Access Key Id you provided does not exist in our records',
  ),
  InvalidArgument: e('InvalidArgument', 400, 'Invalid Argument'),
  InvalidBucketName: e('InvalidBucketName', 400, 'The specified bucket is not valid'),
  InvalidDigest: e('InvalidDigest', 400, 'The Content-MD5 or checksum you specified is not valid'),
  InvalidPart: e(
    'InvalidPart',
    400,
    'One or more of the specified parts could not be found or its entity tag did not match',
  ),
  InvalidPartOrder: e('InvalidPartOrder', 400, 'The list of parts was not in ascending order'),
  InvalidRange: e('InvalidRange', 416, 'The requested range is not satisfiable'),
  InvalidRequest: e('InvalidRequest', 400, 'Invalid Request'),
  InvalidStorageClass: e(
    'InvalidStorageClass',
    400,
    'The storage class you specified is not valid',
  ),
  KeyTooLongError: e('KeyTooLongError', 400, 'Your key is too long'),
  MalformedXML: e(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema',
  ),
  MaxMessageLengthExceeded: e('MaxMessageLengthExceeded', 400, 'Your request was too big'),
  MetadataTooLarge: e(
    'MetadataTooLarge',
    400,
    'Your metadata headers exceed the maximum allowed metadata size',
  ),
  MethodNotAllowed: e(
    'MethodNotAllowed',
    405,
    'The specified method is not allowed against this resource',
  ),
  MissingContentLength: e(
    'MissingContentLength',
    411,
    'You must provide the Content-Length HTTP header',
  ),
  MissingSecurityHeader: e(
    'MissingSecurityHeader',
    400,
    'Your request is missing a required header',
  ),
  NoSuchBucket: e('NoSuchBucket', 404, 'The specified bucket does not exist'),
  NoSuchKey: e('NoSuchKey', 404, 'The specified key does not exist'),
  NoSuchUpload: e('NoSuchUpload', 404, 'The specified multipart upload does not exist'),
  NotImplemented: e(
    'NotImplemented',
    501,
    'A header or query you provided implies functionality that is not implemented',
  ),
  NotModified: e('NotModified', 304, 'Not Modified'),
  PreconditionFailed: e(
    'PreconditionFailed',
    412,
    'At least one of the preconditions you specified did not hold',
  ),
  RequestHeaderSectionTooLarge: e(
    'RequestHeaderSectionTooLarge',
    400,
    'Your request header section exceeds the maximum allowed size',
  ),
  RequestTimeTooSkewed: e(
    'RequestTimeTooSkewed',
    403,
    "The difference between the request time and the server's time is too large",
  ),
  ServiceUnavailable: e('ServiceUnavailable', 503, 'Reduce your request rate'),
  OperationAborted: e(
    'OperationAborted',
    409,
    'A conflicting conditional operation is currently in progress against this resource. Try again.',
  ),
  SignatureDoesNotMatch: e(
    'SignatureDoesNotMatch',
    403,
    'The request signature we calculated does not match the signature you provided',
  ),
  InsufficientStorage: e(
    'InsufficientStorage',
    507,
    'Insufficient storage space to complete the request',
  ),
  XAmzContentSHA256Mismatch: e(
    'XAmzContentSHA256Mismatch',
    400,
    'The provided x-amz-content-sha256 header does not match what was computed',
  ),
} as const;

/** The S3 answer for anything thrown while serving a request. */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  switch (codeOf(err)) {
    case 'ERR_NOT_FOUND':
      return S3Errors.NoSuchKey();
    case 'ERR_INVALID_KEY':
      return S3Errors.InvalidArgument('the store refuses this key');
    case 'ERR_INVALID_RANGE':
      return S3Errors.InvalidRange();
    case 'ERR_NO_SPACE':
      return S3Errors.InsufficientStorage();
    case 'ERR_CONFLICT':
      return S3Errors.OperationAborted((err as Error).message);
    case 'ERR_UNAVAILABLE':
    case 'ERR_TIMEOUT':
    case 'ERR_NOT_CONNECTED':
    case 'ERR_CLOSED':
      return S3Errors.ServiceUnavailable('the store is temporarily unavailable; retry');
    case 'ERR_AUTH':
      return S3Errors.SignatureDoesNotMatch((err as Error).message);
    case 'ERR_PROTOCOL':
      return S3Errors.IncompleteBody((err as Error).message);
    case 'ERR_LIMIT':
      return S3Errors.MaxMessageLengthExceeded((err as Error).message);
    case 'ERR_INTEGRITY':
      return S3Errors.InternalError('stored data failed verification and no sound copy was found');
    default:
      return S3Errors.InternalError();
  }
}
