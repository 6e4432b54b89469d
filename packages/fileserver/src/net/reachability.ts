// Whether peers on other machines can reach this node: warnings the node gives in its status and
// log when it announces or binds a loopback address while its cluster lives beyond this machine.

/** A condition the node reports in `status().warnings`; `code` is stable, `message` says what to do. */
export interface NodeWarning {
  code: 'LOOPBACK_ADVERTISE' | 'LOOPBACK_LISTEN';
  message: string;
  /** The peer addresses outside loopback that the warning is about. */
  peers?: string[];
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped), localhost and *.localhost. */
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

const isLoopbackAddr = (addr: string) => isLoopbackHost(hostOf(addr));

function listed(addrs: readonly string[]): string {
  return (addrs.length > 3 ? [...addrs.slice(0, 3), '…'] : addrs).join(', ');
}

export interface ReachabilityFacts {
  /** The bound peer address. */
  listen: string;
  /** The announced one, when set apart from the bound one. */
  advertise: string | undefined;
  /** Addresses of peers linked now (their announced and their socket address) and bootstrap ones. */
  peerAddrs: readonly string[];
}

/**
 * LOOPBACK_ADVERTISE: the node announces a loopback address but links to peers elsewhere, which
 * store it under an address only its own machine reaches. LOOPBACK_LISTEN: it binds loopback only
 * but announces an outside address, where nothing answers for it.
 */
export function reachabilityWarnings(f: ReachabilityFacts): NodeWarning[] {
  const warnings: NodeWarning[] = [];
  const announced = f.advertise ?? f.listen;
  if (isLoopbackAddr(announced)) {
    const outside = [...new Set(f.peerAddrs.filter((a) => a && !isLoopbackAddr(a)))];
    if (outside.length > 0) {
      warnings.push({
        code: 'LOOPBACK_ADVERTISE',
        message:
          `this node announces ${announced}, a loopback address, but links to peers on other ` +
          `machines (${listed(outside)}): they cannot dial it back; give this machine's own ` +
          'address with "peerstash serve --listen <address>:<port>" (or --advertise)',
        peers: outside,
      });
    }
  } else if (isLoopbackAddr(f.listen)) {
    warnings.push({
      code: 'LOOPBACK_LISTEN',
      message:
        `this node listens on ${f.listen} only (loopback) but announces ${announced}: peers on ` +
        `other machines dial ${announced} and reach nothing unless this machine forwards it; ` +
        'listen on its own address or 0.0.0.0 ("peerstash serve --listen 0.0.0.0:<port>")',
    });
  }
  return warnings;
}
