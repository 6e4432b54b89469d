// The one definition of a node id and of a listen address a peer may announce: the HELLO parser,
// the constructor and the file server's peer exchange all ask these two functions.

import { isIPv4, isIPv6 } from 'node:net';

const NODE_ID = /^[0-9a-f]{64}$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/** A node id: 32 bytes as 64 lowercase hex characters (what `generateId()` makes). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID.test(value);
}

/**
 * An address another node can dial: `host:port` with port 1–65535 and the host an IPv4 address,
 * a bracketed IPv6 address or a DNS name (RFC 1123 labels, not all digits in its last label).
 */
export function isPeerAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 262) return false;
  const i = value.lastIndexOf(':');
  if (i <= 0) return false;
  const port = value.slice(i + 1);
  if (!PORT.test(port) || Number(port) > 65_535) return false;
  const host = value.slice(0, i);
  if (host.startsWith('[')) return host.endsWith(']') && isIPv6(host.slice(1, -1));
  return isIPv4(host) || isHostName(host);
}

function isHostName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  // '1.2.3' or '999.0.0.1' is a mistyped IP address rather than a name
  if (/^[0-9]+$/.test(labels.at(-1)!)) return false;
  return labels.every((l) => LABEL.test(l));
}
