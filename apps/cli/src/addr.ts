// Parsing and checking of `host:port` addresses given on the command line.
// Done before a node starts so a typo is a usage error, not a dial loop that never connects.

import { UsageError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port` or `:port` (host defaults to `defaultHost`). */
export function parseHostPort(value: string, what: string, defaultHost = '127.0.0.1'): HostPort {
  const text = value.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `bad ${what} "${value}"`,
      'expected host:port, for example 192.168.1.10:7400',
    );
  }
  const host = m[1] ?? (m[2] === '' ? defaultHost : m[2]!);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An address a peer will dial (bootstrap, advertise) names a concrete host and a non-zero port. */
export function parsePeerAddress(value: string, what: string): string {
  const hp = parseHostPort(value, what);
  if (hp.port === 0 || hp.host === '0.0.0.0' || hp.host === '::') {
    throw new UsageError(
      `bad ${what} "${value}"`,
      'give a host and port other nodes can dial, for example 192.168.1.10:7400',
    );
  }
  return formatHostPort(hp);
}

export function parseBootstrap(value: string): string {
  return parsePeerAddress(value, 'bootstrap address');
}
