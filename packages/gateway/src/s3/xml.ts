// XML in and out of the S3 API with fast-xml-parser: responses built from plain objects, request
// bodies validated and parsed with a size bound (no DOCTYPE entity is ever expanded).

import type { IncomingMessage } from 'node:http';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { readBody } from '../http/body.js';
import { S3Errors } from './errors.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
});
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  // Numeric character references (Go's encoder writes quotes as &#34;) are decoded too.
  htmlEntities: true,
  isArray: (name) => ['Part', 'Object', 'Tag'].includes(name),
});

/** `<?xml …?><root xmlns="…">…</root>` from a plain object (arrays repeat the element). */
export function toXml(
  root: string,
  body: Record<string, unknown>,
  namespace: string | false = S3_NS,
): string {
  const content = namespace ? { '@_xmlns': namespace, ...body } : body;
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    [root]: content,
  }) as string;
}

/** Default bound for request bodies: ~1000 DeleteObjects keys or 10,000 parts fit easily. */
export const MAX_XML_BODY = 2 * 1024 * 1024;

/** Reads and parses an XML request body: MaxMessageLengthExceeded past the bound, MalformedXML. */
export async function readXml(
  req: IncomingMessage,
  limit = MAX_XML_BODY,
): Promise<Record<string, unknown>> {
  let body: Buffer;
  try {
    body = await readBody(req, limit);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_LIMIT') {
      throw S3Errors.MaxMessageLengthExceeded(`the XML body is over ${limit} bytes`);
    }
    throw err;
  }
  return parseXml(body);
}

export function parseXml(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw S3Errors.MalformedXML();
  return parser.parse(text) as Record<string, unknown>;
}

/** A parsed element's text ('' for an empty element). */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && '#text' in (value as object))
    return String((value as { '#text': unknown })['#text']);
  return '';
}
