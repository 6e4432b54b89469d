// 'host:port' strings, the one address form the transport takes and reports.
// IPv6 hosts are bracketed ('[::1]:4000') so the last colon always splits off the port.

import { InvalidArgumentError } from './errors.js';

export function parseAddress(addr: string): { host: string; port: number } {
  if (typeof addr !== 'string')
    throw new InvalidArgumentError('address must be a "host:port" string');
  const i = addr.lastIndexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`address "${addr}" is not "host:port"`);
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portText = addr.slice(i + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) {
    throw new InvalidArgumentError(`address "${addr}" has a bad port`);
  }
  return { host, port };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
