// Whether peers on other machines can dial this node back: one that announces a loopback address
// but links to peers elsewhere gets stored by them under an address only its own machine reaches.

import type { Logger } from './logger.js';

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
  );
}

/** The host of `host:port` or `[v6]:port` (the text itself when it has no port). */
export function hostOf(addr: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(addr) ?? /^([^:]*):\d+$/.exec(addr);
  return m ? m[1]! : addr;
}

/** The peer addresses outside loopback when `announced` is on loopback; else none. */
export function unreachableFrom(announced: string, peers: readonly string[]): string[] {
  if (!isLoopbackHost(hostOf(announced))) return [];
  return [...new Set(peers.filter((p) => p && !isLoopbackHost(hostOf(p))))];
}

/** The one warning both `serve` (at start) and `status` give. */
export function loopbackWarning(announced: string, outside: readonly string[]): string {
  const shown = outside.length > 3 ? [...outside.slice(0, 3), '…'] : outside;
  return (
    `this node announces ${announced}, a loopback address, but links to peers on other machines ` +
    `(${shown.join(', ')}): they cannot dial it back; give this machine's own address with ` +
    '"peerstash serve --listen <address>:<port>" (or --advertise)'
  );
}

/** `serve` at start: bootstrap addresses, and the peers node.json saved (`[{ id, addr }]`). */
export function warnIfLoopback(
  logger: Logger,
  announced: string,
  bootstrap: readonly string[],
  saved: unknown,
): void {
  const met = (Array.isArray(saved) ? saved : []).flatMap((p: { addr?: unknown } | null) =>
    typeof p?.addr === 'string' ? [p.addr] : [],
  );
  const outside = unreachableFrom(announced, [...bootstrap, ...met]);
  if (outside.length > 0) {
    logger.warn({ announced, peers: outside }, loopbackWarning(announced, outside));
  }
}
