// The node's options and every default and bound in one place: resolveConfig() checks what the
// caller gave, fills in the rest, and the units read only the resolved NodeConfig.

import type { TransportLimits } from '@peerstash/transport-tcp';
import { InvalidArgumentError } from './errors.js';
import type { ApiFrontFactory } from './http/api-front.js';
import { defaultLogger, type Logger } from './logger.js';
import { resolveCryptoThreads } from './node-crypto.js';

export interface FileServerOptions {
  /** Folder for node id, keys, API token and blobs; created if missing. */
  dataDir: string;
  /** Peer listen address, `host:port`; default the one kept in node.json, else `127.0.0.1:0`. */
  listen?: string;
  /** Listen address announced to peers when it differs from the bound one (0.0.0.0, NAT). */
  advertise?: string;
  /** Addresses of nodes to join; peer exchange finds the rest. */
  bootstrap?: string[];
  /**
   * Copies of each file the cluster settles on (default 3, or every node when fewer): a put writes
   * its own copy and streams one to each of R peers, then repair keeps the R placement nodes' copies
   * (the writer's only when it is one of them) and hands the extra one off. 0: no replicas at all.
   */
  replicationFactor?: number;
  /**
   * How a put sends its replicas: 'fanout' (the writer streams each one itself), 'chain' (the
   * writer streams once to the first placement peer, which stores and forwards to the next while
   * receiving) or 'auto' (default: chain with two or more replica peers, fan-out with one).
   */
  replicationMode?: ReplicationMode;
  /** 32-byte vault key; without it (here or in keys.json) the node is storage-only. */
  vaultKey?: Uint8Array;
  /** 32-byte cluster secret; with it peer links run over TLS-PSK, without it plain TCP. */
  clusterSecret?: Uint8Array;
  /** HTTP API port (default 0: any free port, written to api.json). */
  apiPort?: number;
  /** HTTP API host (default 127.0.0.1). */
  apiHost?: string;
  /** Host names the API answers to besides IP addresses and localhost (DNS-rebinding defence). */
  apiAllowedHosts?: string[];
  /** Start the HTTP API at all (default true). */
  api?: boolean;
  /**
   * Front ends served on the API listener ahead of its bearer check (the CLI adds the web console
   * here); each takes the requests it claims and does its own auth.
   */
  apiFronts?: ApiFrontFactory[];
  /** Default: pino at 'info' to stderr. */
  logger?: Logger;
  /** How long to wait for a peer's first answer to a request (default 5,000 ms). */
  requestTimeoutMs?: number;
  /** How long a transfer may stay silent before it is abandoned (default 30,000 ms). */
  idleTimeoutMs?: number;
  /**
   * How long a get waits on a peer that sends nothing while the reader wants more (a frozen node,
   * a link gone silent) before it continues from another copy (default 10,000 ms).
   */
  stallTimeoutMs?: number;
  /** How long to wait for a replica's acknowledgement once its bytes are sent (default 60,000 ms). */
  ackTimeoutMs?: number;
  /** Sealed-blob chunk size (default 256 KiB). */
  chunkSize?: number;
  /**
   * Worker threads that seal puts and open gets of big files (default 'auto': none on 1–2 cores,
   * else min(4, cores − 1); 0: on the main thread). See DESIGN.md "Crypto threads".
   */
  cryptoThreads?: number | 'auto';
  /**
   * Plaintext bytes a get without a local copy asks one holder for at a time when it reads from
   * several at once (default 4 MiB; a power of two; 0: always read from one holder).
   */
  getRangeBytes?: number;
  /** Transport limits; the default raises the per-stream window to 1 MiB (see README). */
  transportLimits?: Partial<TransportLimits>;
  /** Time between anti-entropy repair rounds (default 30,000 ms; 0: only when repair() is called). */
  repairIntervalMs?: number;
  /** Repair traffic limit in bytes per second (default 50 MB/s; 0: unlimited). */
  repairRateBytesPerSec?: number;
  /** How long delete tombstones are kept (default 7 days), blob tombstones and catalog ones alike. */
  tombstoneTtlMs?: number;
  /**
   * How far ahead of this node's clock a peer's catalog record may be dated and still be taken
   * (default 60,000 ms); a record from further ahead is refused until the clocks are closer.
   */
  maxClockDriftMs?: number;
  /**
   * Time between background scrub passes, which re-read every local blob and drop rotten copies
   * for repair to replace (default 86,400,000 ms, one day; 0: only when scrub() is called).
   */
  scrubIntervalMs?: number;
  /** Disk read limit of a scrub pass in bytes per second (default 20 MB/s; 0: unlimited). */
  scrubRateBytesPerSec?: number;
}

export type ReplicationMode = 'auto' | 'chain' | 'fanout';
const REPLICATION_MODES: readonly ReplicationMode[] = ['auto', 'chain', 'fanout'];

/** Defaults of the options above (see their comments; README figures explain the sizes). */
export const DEFAULTS = {
  listen: '127.0.0.1:0',
  replicationFactor: 3,
  replicationMode: 'auto' as ReplicationMode,
  apiHost: '127.0.0.1',
  apiPort: 0,
  requestTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  stallTimeoutMs: 10_000,
  ackTimeoutMs: 60_000,
  /** A quarter of crypto's default's tags and HMAC set-ups per byte (figures in the README). */
  chunkSize: 256 * 1024,
  /** 16 records of the default chunk size: a range costs one round trip per ~40 ms at 100 MiB/s. */
  getRangeBytes: 4 * 1024 * 1024,
  repairIntervalMs: 30_000,
  repairRateBytesPerSec: 50_000_000,
  tombstoneTtlMs: 7 * 24 * 3600 * 1000,
  maxClockDriftMs: 60_000,
  scrubIntervalMs: 86_400_000,
  scrubRateBytesPerSec: 20_000_000,
} as const;

/** Fixed bounds of the node (not options). */
export const BOUNDS = {
  /**
   * Per-stream transport window: at 256 KiB a stream ran at window / event-loop delay on a loaded
   * host; 1 MiB lets a transfer run at disk speed while 64 streams cap a peer at 64 MiB.
   */
  streamWindow: 1024 * 1024,
  /** Sealed bytes go to the replica fan-out in pieces of a quarter window (fewer frames). */
  replicaPiece: (1024 * 1024) / 4,
  /** Buffers between the sealer or a peer's stream and the local write. */
  localBuffer: 1024 * 1024,
  /** Of two nodes that learn of each other, the higher id dials only after this (plus jitter). */
  peerDialGraceMs: 1500,
  peerDialJitterMs: 500,
  /** Peers kept in node.json to dial again after a restart (only peers reached over a link). */
  maxSavedPeers: 64,
  /** Peers known in memory at most: reached, linked or only named in a peer's list. */
  maxKnownPeers: 256,
  /** A peer named by others or linked but never heard from is forgotten after this. */
  unreachedPeerTtlMs: 10 * 60_000,
  /** node.json's peer list is written this long after the last change. */
  savePeersDelayMs: 1000,
  /** How often a running node refreshes its last-alive mark (downtime is known to this precision). */
  aliveEveryMs: 3_600_000,
  /** A multi-source get reads from at most this many holders at once... */
  getSources: 3,
  /** ...with this many ranges in flight per holder (one queued behind the one arriving)... */
  getRangesPerHolder: 2,
  /**
   * ...and at most this many ranges fetched ahead of the one being sent (the reorder buffer, each
   * range held as plaintext and sealed records: 4 × 2 × 4 MiB). Two holders stay fully busy; at 6
   * a node's peak RSS in the 1 GiB bench rose from 143 to 193 MiB.
   */
  getRangesAhead: 4,
  /** Repair requests are background work on a possibly busy peer: more patience than a get. */
  repairRequestTimeoutMs: 30_000,
  /** File ids per holdings query (who holds these versions: list copies, stat holders). */
  holdingsQueryIds: 1000,
  /** Repair pushes in flight at once, per peer pair or hand-off batch. */
  repairConcurrentPushes: 8,
  /**
   * Sealed bytes of store-small replicas a peer may have waiting here for their commit at once
   * (each is held until its store-commit or store-abort, up to the ack timeout): 256 files of
   * 64 KiB, past what a writer's 16-put API concurrency sends; more are refused with ERR_LIMIT
   * (the writer counts one replica fewer and repair makes it later) instead of growing memory.
   */
  smallPendingPerPeer: 16 * 1024 * 1024,
  /** Replica peers a chain put names at most (a store-offer's `chain` is refused beyond it). */
  maxChain: 8,
  /** Peers a round compares with at once. */
  repairConcurrentPeers: 4,
  /** The holdings index answers peers from a build at most this old (own rounds rebuild it). */
  repairIndexMaxAgeMs: 1000,
  /** A gap left to the holder placement names first is filled by another after at most this. */
  repairDeferMaxMs: 10_000,
  /** After a round that left work, or a peer change, the next round comes after this. */
  repairSoonMs: 1000,
} as const;

/** The resolved options every unit reads. */
export interface NodeConfig {
  dataDir: string;
  /** Undefined: node.json's, else DEFAULTS.listen. */
  listen: string | undefined;
  advertise: string | undefined;
  bootstrap: readonly string[];
  replication: number;
  replicationMode: ReplicationMode;
  vaultKey: Uint8Array | undefined;
  clusterSecret: Uint8Array | undefined;
  api:
    | { host: string; port: number; allowedHosts: string[]; fronts: ApiFrontFactory[] }
    | undefined;
  log: Logger;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  stallTimeoutMs: number;
  ackTimeoutMs: number;
  chunkSize: number;
  /** 0: seal and open on the main thread. */
  cryptoThreads: number;
  /** 0: gets read from one holder. */
  getRangeBytes: number;
  transportLimits: Partial<TransportLimits>;
  repair: RepairConfig;
  scrub: ScrubConfig;
  catalog: CatalogConfig;
}

export interface CatalogConfig {
  tombstoneTtlMs: number;
  maxDriftMs: number;
  pushTimeoutMs: number;
}

export interface RepairConfig {
  /** 0: no rounds of its own, only when asked. */
  intervalMs: number;
  /** 0: unlimited. */
  rateBytesPerSec: number;
  tombstoneTtlMs: number;
  requestTimeoutMs: number;
  ackTimeoutMs: number;
}

export interface ScrubConfig {
  /** 0: only when asked. */
  intervalMs: number;
  /** 0: unlimited. */
  rateBytesPerSec: number;
}

const NON_NEGATIVE = [
  'requestTimeoutMs',
  'idleTimeoutMs',
  'stallTimeoutMs',
  'ackTimeoutMs',
  'repairIntervalMs',
  'repairRateBytesPerSec',
  'tombstoneTtlMs',
  'maxClockDriftMs',
  'scrubIntervalMs',
  'scrubRateBytesPerSec',
] as const;

/** Checks `options` (InvalidArgumentError, ERR_INVALID_ARGUMENT) and fills in every default. */
export function resolveConfig(options: FileServerOptions): NodeConfig {
  if (!options || typeof options.dataDir !== 'string' || options.dataDir === '') {
    throw new InvalidArgumentError('dataDir must be a non-empty path');
  }
  const r = options.replicationFactor ?? DEFAULTS.replicationFactor;
  if (!Number.isSafeInteger(r) || r < 0) {
    throw new InvalidArgumentError('replicationFactor must be a non-negative integer');
  }
  const mode = options.replicationMode ?? DEFAULTS.replicationMode;
  if (!REPLICATION_MODES.includes(mode)) {
    throw new InvalidArgumentError("replicationMode must be 'auto', 'chain' or 'fanout'");
  }
  for (const name of NON_NEGATIVE) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    }
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs;
  return {
    dataDir: options.dataDir,
    listen: options.listen,
    advertise: options.advertise,
    bootstrap: options.bootstrap ?? [],
    replication: r,
    replicationMode: mode,
    vaultKey: options.vaultKey,
    clusterSecret: options.clusterSecret,
    api:
      options.api === false
        ? undefined
        : {
            host: options.apiHost ?? DEFAULTS.apiHost,
            port: options.apiPort ?? DEFAULTS.apiPort,
            allowedHosts: options.apiAllowedHosts ?? [],
            fronts: options.apiFronts ?? [],
          },
    log: options.logger ?? defaultLogger(),
    requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
    ackTimeoutMs,
    chunkSize: options.chunkSize ?? DEFAULTS.chunkSize,
    cryptoThreads: resolveCryptoThreads(options.cryptoThreads),
    getRangeBytes: getRangeBytes(options.getRangeBytes),
    transportLimits: { streamWindow: BOUNDS.streamWindow, ...options.transportLimits },
    repair: {
      intervalMs: options.repairIntervalMs ?? DEFAULTS.repairIntervalMs,
      rateBytesPerSec: options.repairRateBytesPerSec ?? DEFAULTS.repairRateBytesPerSec,
      tombstoneTtlMs: options.tombstoneTtlMs ?? DEFAULTS.tombstoneTtlMs,
      requestTimeoutMs: Math.max(requestTimeoutMs, BOUNDS.repairRequestTimeoutMs),
      ackTimeoutMs,
    },
    scrub: {
      intervalMs: options.scrubIntervalMs ?? DEFAULTS.scrubIntervalMs,
      rateBytesPerSec: options.scrubRateBytesPerSec ?? DEFAULTS.scrubRateBytesPerSec,
    },
    catalog: {
      tombstoneTtlMs: options.tombstoneTtlMs ?? DEFAULTS.tombstoneTtlMs,
      maxDriftMs: options.maxClockDriftMs ?? DEFAULTS.maxClockDriftMs,
      // a put waits for every peer's answer to its record push: a get's patience, not repair's
      pushTimeoutMs: requestTimeoutMs,
    },
  };
}

function getRangeBytes(v: number | undefined): number {
  if (v === undefined) return DEFAULTS.getRangeBytes;
  // a power of two, so every range starts on a record of any chunk size up to it
  if (v !== 0 && (!Number.isSafeInteger(v) || v < 64 || !Number.isInteger(Math.log2(v)))) {
    throw new InvalidArgumentError('getRangeBytes must be 0 or a power of two ≥ 64');
  }
  return v;
}
