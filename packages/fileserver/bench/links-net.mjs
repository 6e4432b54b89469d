// Network namespaces for the links bench: one namespace per node, joined through a bridge by
// veth pairs, each node's uplink (its eth0 egress) shaped with tbf; torn down on every exit path.
import { execFileSync } from 'node:child_process';

const sh = (...args) => execFileSync(args[0], args.slice(1), { stdio: 'pipe' }).toString();

/**
 * Builds `count` namespaces on `${net}.0/24` (node i at `${net}.${i + 1}`), each uplink shaped to
 * `rate` (a tc rate, e.g. '400mbit'). Downlinks (the bridge side) stay unshaped, so a node can
 * receive from two peers at once at twice one uplink — the room a multi-source get needs.
 * Returns { spaces, ips, shaping, destroy }; destroy() is synchronous and idempotent, so it can
 * run from a signal handler or 'exit'.
 */
export function buildNet({ tag, net, count, rate }) {
  const bridge = `${tag}br`;
  const spaces = Array.from({ length: count }, (_, i) => `${tag}n${i + 1}`);
  const ips = spaces.map((_, i) => `${net}.${i + 1}`);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    for (const ns of spaces) {
      // the host end first: a namespace outlives its name while a process is still in it
      for (const argv of [
        ['link', 'del', `${ns}h`],
        ['netns', 'del', ns],
      ]) {
        try {
          sh('ip', ...argv);
        } catch {}
      }
    }
    try {
      sh('ip', 'link', 'del', bridge);
    } catch {}
  };
  // exit runs the 'exit' handlers: the caller's (killing its children) and destroy
  const onSignal = (sig) => process.exit(sig === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', destroy);
  try {
    sh('ip', 'link', 'add', bridge, 'type', 'bridge');
    sh('ip', 'link', 'set', bridge, 'up');
    for (const [i, ns] of spaces.entries()) {
      sh('ip', 'netns', 'add', ns);
      sh('ip', 'link', 'add', `${ns}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      sh('ip', 'link', 'set', `${ns}h`, 'master', bridge);
      sh('ip', 'link', 'set', `${ns}h`, 'up');
      sh('ip', '-n', ns, 'addr', 'add', `${ips[i]}/24`, 'dev', 'eth0');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      // burst must cover one timer tick at this rate (400 Mbit/s / 250 Hz = 200 KB)
      sh(
        ...['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root'],
        ...['tbf', 'rate', rate, 'burst', '256kb', 'latency', '50ms'],
      );
    }
  } catch (err) {
    destroy();
    const why = String(err?.stderr ?? err).trim();
    throw new Error(`cannot build network namespaces (root, iproute2 and sch_tbf needed): ${why}`);
  }
  const cleanup = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', destroy);
    destroy();
  };
  return {
    spaces,
    ips,
    shaping: `tbf ${rate} on each uplink, downlinks unshaped`,
    destroy: cleanup,
  };
}

/** Bytes sent on each namespace's eth0 so far (its uplink), in the order of `spaces`. */
export function txBytes(spaces) {
  return spaces.map((ns) => {
    const [link] = JSON.parse(sh('ip', '-n', ns, '-j', '-s', 'link', 'show', 'dev', 'eth0'));
    return Number(link.stats64.tx.bytes);
  });
}

/** argv prefix that runs a program inside namespace `ns` (ip execs it in place: same pid). */
export const inNs = (ns, argv) => ['ip', ['netns', 'exec', ns, ...argv]];
