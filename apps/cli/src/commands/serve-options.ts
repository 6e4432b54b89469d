// The options of `peerstash serve` and their checks (usage mistakes refused before anything
// touches the disk or the network), and the conversions from what a person types to node options.

import type { Argv } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { UsageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../logger.js';
import { DEFAULT_LISTEN } from './init.js';

export interface ServeArgs extends GlobalArgs {
  listen?: string;
  advertise?: string;
  bootstrap: string[];
  replicas?: number;
  replicationMode?: 'auto' | 'chain' | 'fanout';
  cryptoThreads?: string;
  apiPort?: number;
  apiHost?: string;
  apiAllowedHost: string[];
  ui: boolean;
  logLevel: LogLevel;
  repairInterval?: number;
  repairRate?: number;
  tombstoneTtl?: number;
  scrubInterval?: number;
  scrubRate?: number;
  stopTimeout: number;
  exitWithParent: boolean;
}

/** --crypto-threads as the node takes it: 'auto' or a whole number 0-64 (UsageError else). */
export function cryptoThreads(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 64) {
    throw new UsageError(`bad --crypto-threads ${v}`, "give 'auto' or a whole number 0-64");
  }
  return n;
}

/** A DNS name as a browser sends it in Host (a trailing dot allowed), without a port. */
const HOST_NAME =
  /^(?=.{1,254}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** --api-allowed-host values, repeated or comma-separated. */
export function allowedHosts(values: string[] = []): string[] {
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** MB/s to bytes/s; 0 stays 0 (unlimited), a tiny rate stays at least 1 byte/s rather than 0. */
export function rateOf(mbPerSec: number): number {
  return mbPerSec === 0 ? 0 : Math.max(1, Math.round(mbPerSec * 1_000_000));
}

export function serveOptions(y: Argv<GlobalArgs>): Argv<ServeArgs> {
  return y
    .option('listen', {
      type: 'string',
      describe: `Peer address, host:port (default: the one init recorded, else ${DEFAULT_LISTEN})`,
      requiresArg: true,
    })
    .option('advertise', {
      type: 'string',
      describe: 'Address peers should dial, when it differs from --listen (0.0.0.0, NAT)',
      requiresArg: true,
    })
    .option('bootstrap', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Address of a node to join (repeatable)',
    })
    .option('replicas', {
      type: 'number',
      describe:
        'Copies of each file kept once repair has run (default 3, or every node when fewer; ' +
        "a put makes N + 1 at first; 0: the writer's copy only)",
      requiresArg: true,
    })
    .option('api-port', {
      type: 'number',
      describe: 'HTTP control API port (0: any free port; the CLI finds it in api.json)',
      requiresArg: true,
    })
    .option('api-host', {
      type: 'string',
      describe: 'HTTP control API host (default 127.0.0.1)',
      requiresArg: true,
    })
    .option('api-allowed-host', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'A host name the API answers to besides IP addresses and localhost (repeatable)',
    })
    .option('ui', {
      type: 'boolean',
      default: true,
      describe: 'Serve the web console under /ui/ on the API listener (--no-ui: off)',
    })
    .option('replication-mode', {
      choices: ['auto', 'chain', 'fanout'] as const,
      describe:
        'How a put sends its replicas: down a chain of peers, to each itself, or auto (chain with 2+ replica peers)',
      requiresArg: true,
    })
    .option('crypto-threads', {
      type: 'string',
      describe:
        'Worker threads that seal puts and open gets (default auto: none on 1-2 cores, else min(4, cores - 1); 0: none)',
      requiresArg: true,
    })
    .option('repair-interval', {
      type: 'number',
      describe: 'Seconds between anti-entropy repair rounds (default 30; 0: off)',
      requiresArg: true,
    })
    .option('repair-rate', {
      type: 'number',
      describe: 'Repair traffic limit in MB/s (default 50; 0: unlimited)',
      requiresArg: true,
    })
    .option('tombstone-ttl', {
      type: 'number',
      describe: 'Days a delete tombstone is kept (default 7)',
      requiresArg: true,
    })
    .option('scrub-interval', {
      type: 'number',
      describe: 'Hours between scrub passes that re-read every local blob (default 24; 0: off)',
      requiresArg: true,
    })
    .option('scrub-rate', {
      type: 'number',
      describe: 'Disk read limit of a scrub pass in MB/s (default 20; 0: unlimited)',
      requiresArg: true,
    })
    .option('log-level', {
      choices: LOG_LEVELS,
      default: 'info' as LogLevel,
      describe: 'Least severe log level written',
    })
    .option('stop-timeout', {
      type: 'number',
      default: 15_000,
      describe: 'Milliseconds a clean stop may take before the node exits anyway',
      hidden: true,
    })
    .option('exit-with-parent', {
      type: 'boolean',
      default: false,
      describe: 'Stop when stdin closes (for supervisors such as "peerstash demo")',
      hidden: true,
    })
    .check((a) => {
      const r = a.replicas as number | undefined;
      if (r !== undefined && (!Number.isInteger(r) || r < 0)) {
        throw new UsageError(`bad --replicas ${String(r)}`, 'give a whole number ≥ 0');
      }
      // The TTL must be > 0; the rate may be 0 (unlimited), the interval 0 (background rounds off).
      for (const flag of [
        'repair-interval',
        'repair-rate',
        'tombstone-ttl',
        'scrub-interval',
        'scrub-rate',
      ] as const) {
        const v = a[flag] as number | undefined;
        if (v === undefined) continue;
        const zeroOk = flag !== 'tombstone-ttl';
        if (!Number.isFinite(v) || v < 0 || (v === 0 && !zeroOk)) {
          throw new UsageError(
            `bad --${flag} ${String(v)}`,
            zeroOk ? 'give a number ≥ 0' : 'give a number > 0',
          );
        }
      }
      for (const h of allowedHosts(a['api-allowed-host'] as string[])) {
        if (!HOST_NAME.test(h)) {
          throw new UsageError(`bad --api-allowed-host ${h}`, 'give a host name, no port');
        }
      }
      cryptoThreads(a['crypto-threads'] as string | undefined);
      const p = a['api-port'] as number | undefined;
      if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 65535)) {
        throw new UsageError(`bad --api-port ${String(p)}`, 'give a port number 0-65535');
      }
      return true;
    })
    .example('$0 serve --listen 10.0.0.2:7400 --bootstrap 10.0.0.1:7400', 'join a cluster')
    .example(
      '$0 serve --listen 127.0.0.1:0 --api-port 0',
      'any free ports',
    ) as unknown as Argv<ServeArgs>;
}
