// The peerstash node: seals and stores files, replicates them to the rendezvous-chosen peers,
// fetches missing ones from peers (verified), deletes everywhere, and serves the HTTP control API.

import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BlobMeta, CasStore } from '@peerstash/cas-store';
import {
  DEFAULT_CHUNK_SIZE,
  deriveFileId,
  deriveNamespace,
  openBytes,
  open as openSealed,
  seal,
  sealBytes,
} from '@peerstash/crypto';
import { type PeerInfo, TcpTransport, type TransportLimits } from '@peerstash/transport-tcp';
import { pino } from 'pino';
import { ListMerge, lineOf, listBody, readListBody, versionOf } from './cluster-list.js';
import {
  BLOBS_DIR,
  loadOrCreateNode,
  loadOrCreateToken,
  type NodeFile,
  readLastAlive,
  removeApiInfo,
  resolveKeys,
  saveNode,
  writeApiInfo,
  writeLastAlive,
} from './data-dir.js';
import {
  AbortedError,
  ClosedError,
  errorCode,
  FileServerError,
  IntegrityError,
  InvalidArgumentError,
  NotConnectedError,
  NotFoundError,
  NoVaultKeyError,
  ProtocolError,
} from './errors.js';
import { checkKey, plainSizeOf } from './file-key.js';
import { ApiServer } from './http-api.js';
import {
  type DeleteRequest,
  type Extra,
  type GetRequest,
  type GetResponse,
  type IntegrityReport,
  type ListLine,
  type ListRequest,
  type ListResponse,
  type PeerAddr,
  type PeerMessage,
  type PeersMessage,
  parseMessage,
  parseStreamHeader,
  type StoreCommit,
  type StoreOffer,
} from './messages.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { rankNodes } from './placement.js';
import { AntiEntropy, DEFAULT_TOMBSTONE_TTL_MS, type RepairStatus } from './repair/anti-entropy.js';
import { Scrubber, type ScrubReport, type ScrubStatus } from './repair/scrub.js';
import { Replies, type Waiter } from './replies.js';
import {
  type ByteSource,
  bothDone,
  Fanout,
  Meter,
  Rechunk,
  toReadable,
  watchStarved,
} from './streams.js';

/** pino's shape; any logger with these four methods works. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FileServerOptions {
  /** Folder for node id, keys, API token and blobs; created if missing. */
  dataDir: string;
  /** Peer listen address, `host:port`; default the one kept in node.json, else `127.0.0.1:0`. */
  listen?: string;
  /** Listen address announced to peers when it differs from the bound one (0.0.0.0, NAT). */
  advertise?: string;
  /** Addresses of nodes to join; peer exchange finds the rest. */
  bootstrap?: string[];
  /** Peers that receive a replica of each stored file (default 3, or every peer when fewer). */
  replicationFactor?: number;
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
  /** Sealed-blob chunk size (default 64 KiB). */
  chunkSize?: number;
  /** Transport limits; the default raises the per-stream window to 1 MiB (see README). */
  transportLimits?: Partial<TransportLimits>;
  /** Time between anti-entropy repair rounds (default 30,000 ms; 0: only when repair() is called). */
  repairIntervalMs?: number;
  /** Repair traffic limit in bytes per second (default 50 MB/s; 0: unlimited). */
  repairRateBytesPerSec?: number;
  /** How long delete tombstones are kept (default 7 days). */
  tombstoneTtlMs?: number;
  /**
   * Time between background scrub passes, which re-read every local blob and drop rotten copies
   * for repair to replace (default 86,400,000 ms, one day; 0: only when scrub() is called).
   */
  scrubIntervalMs?: number;
  /** Disk read limit of a scrub pass in bytes per second (default 20 MB/s; 0: unlimited). */
  scrubRateBytesPerSec?: number;
}

export interface StoreResult {
  key: string;
  /** Plaintext bytes stored. */
  size: number;
  /** SHA-256 of the sealed blob. */
  digest: string;
  /** Peers that acknowledged a replica. */
  replicas: number;
}

export interface FileEntry {
  key: string;
  size: number;
  createdAt: number;
  /** With `list({ all: true })`: nodes holding this version (this one and its peers). */
  copies?: number;
}

export interface FileInfo extends FileEntry {
  /** SHA-256 of the sealed blob. */
  digest: string;
}

export interface ReadResult {
  /** Plaintext, verified chunk by chunk as it is read. */
  stream: Readable;
  size: number;
  digest: string;
  /** Where the sealed blob came from: this node's disk or a peer. */
  source: 'local' | 'peer';
}

export interface DeleteResult {
  deleted: boolean;
  /** Peers that removed a replica. */
  peers: number;
}

export interface PeerStatus {
  id: string;
  listenAddr: string | undefined;
  remoteAddr: string | undefined;
  outbound: boolean;
}

export interface NodeStatus extends RepairStatus, ScrubStatus {
  /** How long the node had been down when it started (null on its first start). */
  offlineBeforeStartMs: number | null;
  /**
   * It had been down longer than the tombstone TTL: deletes everywhere made meanwhile may have
   * been forgotten by the cluster, so files deleted then can come back from this node.
   */
  tombstonesMayBeMissed: boolean;
  nodeId: string;
  listen: string;
  api: string | null;
  storageOnly: boolean;
  secure: boolean;
  replicationFactor: number;
  namespace: string | null;
  peers: PeerStatus[];
  blobs: number;
  bytes: number;
  process: { pid: number; rss: number; maxRss: number; uptime: number };
}

interface SignalOption {
  signal?: AbortSignal;
}

type FetchOutcome = 'ok' | 'missing' | 'corrupt' | 'failed';

/** A replica being streamed to one peer while the file is stored locally. */
interface Push {
  peerId: string;
  reqId: string;
  waiter: Waiter;
  /** What the fan-out writes into (counts bytes, fails when the peer stalls). */
  input: Meter;
  /** Settles when the stream's end went out, or it broke. */
  sent: Promise<void>;
  started: number;
  error?: Error;
}

/** Plaintext being read from one copy of a blob: this node's disk or a peer's stream. */
interface PlainSource {
  it: AsyncIterator<Buffer>;
  /** The first verified chunk, read before answering (null: empty file). */
  first: Buffer | null;
  size: number;
  digest: string;
  origin: 'local' | 'peer';
  peerId?: string;
  /** After the last chunk: waits for the side work (committing the local copy of a fetch). */
  finish(): Promise<void>;
  close(): void;
  /** Settles once an abandoned source's side work is undone (its partial local write discarded). */
  settled: Promise<unknown>;
}

const PEER_DIAL_GRACE_MS = 1500;
const MAX_SAVED_PEERS = 64;
/** How often a running node refreshes its last-alive mark (downtime is known to this precision). */
const ALIVE_EVERY_MS = 3_600_000;
/**
 * A 256 KiB window caps one stream at window / round-trip; on a loaded host the round trip is
 * the receiver's event-loop delay (milliseconds), so replicas crawled. 1 MiB per stream keeps a
 * peer's worst case (64 streams) at 64 MiB while letting a transfer run at disk speed.
 */
const STREAM_WINDOW = 1024 * 1024;
/**
 * Sealed bytes go to the fan-out in pieces of this size rather than the sealer's 64 KiB slices:
 * in alternating 384 MiB puts the cluster used 10–15 % less CPU. A quarter of the window, so a
 * piece never waits for the whole window to come back.
 */
const REPLICA_PIECE = STREAM_WINDOW / 4;

/**
 * Sealed-chunk size of new files (each file records its own in `extra.chunkSize`). A quarter of
 * crypto's 64 KiB default's tags, HMAC set-ups and pieces through the put path: in alternating
 * 384 MiB puts the cluster used about 7 % less CPU; a get holds one such chunk per stream.
 */
const SEAL_CHUNK_SIZE = 256 * 1024;

function abortError(signal: AbortSignal): Error {
  return new AbortedError(undefined, { cause: signal.reason });
}

export class FileServer {
  readonly #opts: FileServerOptions;
  readonly #log: Logger;
  readonly #replication: number;
  readonly #requestTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  readonly #ackTimeoutMs: number;
  readonly #chunkSize: number;
  readonly #replies = new Replies();
  readonly #dialing = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Aborted by stop(): every disk write in progress gives up, so stop() can wait for them. */
  readonly #halt = new AbortController();
  readonly #checking = new Set<string>();
  readonly metrics: ServerMetrics;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #node: NodeFile | undefined;
  #vaultKey: Buffer | undefined;
  #clusterSecret: Buffer | undefined;
  #ns: string | undefined;
  #cas: CasStore | undefined;
  #transport: TcpTransport | undefined;
  #api: ApiServer | undefined;
  #repair: AntiEntropy | undefined;
  #scrub: Scrubber | undefined;
  #offlineMs: number | null = null;
  #aliveTimer: NodeJS.Timeout | undefined;
  #aliveWrite: Promise<void> | undefined;
  #address: string | undefined;
  #knownPeers = new Map<string, string>();
  #savePeersTimer: NodeJS.Timeout | undefined;
  #generation = 0;
  #counted: { gen: number; blobs: number; bytes: number } | undefined;
  #counting:
    | { gen: number; scan: Promise<{ gen: number; blobs: number; bytes: number }> }
    | undefined;

  constructor(options: FileServerOptions) {
    if (!options || typeof options.dataDir !== 'string' || options.dataDir === '') {
      throw new InvalidArgumentError('dataDir must be a non-empty path');
    }
    const r = options.replicationFactor ?? 3;
    if (!Number.isSafeInteger(r) || r < 0) {
      throw new InvalidArgumentError('replicationFactor must be a non-negative integer');
    }
    for (const name of [
      'requestTimeoutMs',
      'idleTimeoutMs',
      'stallTimeoutMs',
      'ackTimeoutMs',
      'repairIntervalMs',
      'repairRateBytesPerSec',
      'tombstoneTtlMs',
      'scrubIntervalMs',
      'scrubRateBytesPerSec',
    ] as const) {
      const v = options[name];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
        throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
      }
    }
    this.#opts = options;
    this.#replication = r;
    // one listener per write in progress: many at once is normal, not a leak
    setMaxListeners(0, this.#halt.signal);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
    this.#chunkSize = options.chunkSize ?? SEAL_CHUNK_SIZE;
    this.#log = options.logger ?? pino({ level: 'info' }, pino.destination(2));
    this.metrics = createMetrics(() => this.#transport?.peers().length ?? 0);
  }

  /** This node's id (available after start). */
  get nodeId(): string {
    return this.#running().node.nodeId;
  }

  /** The bound peer listen address (available after start). */
  get address(): string | undefined {
    return this.#address;
  }

  /** The HTTP API base URL, when the API runs. */
  get apiUrl(): string | undefined {
    return this.#api?.url;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new InvalidArgumentError('a FileServer starts only once');
    this.#state = 'starting';
    try {
      await this.#start();
      this.#state = 'running';
      await this.#startAliveMark();
    } catch (err) {
      await this.#teardown();
      this.#state = 'stopped';
      throw err;
    }
  }

  async #start(): Promise<void> {
    const { dataDir } = this.#opts;
    const node = await loadOrCreateNode(dataDir);
    await this.#removeStaleTemps(dataDir);
    const keys = await resolveKeys(dataDir, {
      ...(this.#opts.vaultKey ? { vaultKey: this.#opts.vaultKey } : {}),
      ...(this.#opts.clusterSecret ? { clusterSecret: this.#opts.clusterSecret } : {}),
    });
    const token = await loadOrCreateToken(dataDir);
    this.#node = node;
    this.#vaultKey = keys.vaultKey;
    this.#clusterSecret = keys.clusterSecret;
    this.#ns = keys.vaultKey ? deriveNamespace(keys.vaultKey) : undefined;

    await this.#noteDowntime(dataDir);
    this.#cas = new CasStore({ root: join(dataDir, BLOBS_DIR), logger: this.#log });
    await this.#cas.open();
    this.#repair = this.#createRepair(node);
    await this.#repair.load();

    this.#address = await this.#listen(node);
    node.listen = this.#address;
    for (const p of node.peers ?? []) if (p.id !== node.nodeId) this.#knownPeers.set(p.id, p.addr);
    await saveNode(dataDir, node);

    if (this.#opts.api !== false) {
      this.#api = new ApiServer(this, token, this.#log, this.#opts.apiAllowedHosts);
      const host = this.#opts.apiHost ?? '127.0.0.1';
      await this.#api.listen(host, this.#opts.apiPort ?? 0);
      await writeApiInfo(dataDir, {
        url: this.#api.url,
        host,
        port: this.#api.port,
        pid: process.pid,
        nodeId: node.nodeId,
      });
    }

    // without a cluster secret the transport itself warns that links are plain TCP
    if (!this.#vaultKey) {
      this.#log.info({}, 'no vault key: storage-only node, keeps sealed replicas only');
    }
    this.#log.info(
      { nodeId: node.nodeId, listen: this.#address, api: this.#api?.url },
      'peerstash node started',
    );
    for (const addr of this.#opts.bootstrap ?? []) this.#dial(addr);
    for (const addr of this.#knownPeers.values()) this.#dial(addr);
    this.#repair.start();
    this.#scrub = this.#createScrubber();
    this.#scrub.start();
  }

  #createRepair(node: NodeFile): AntiEntropy {
    const self = this;
    return new AntiEntropy(
      {
        selfId: node.nodeId,
        log: this.#log,
        get cas() {
          return self.#running().cas;
        },
        get transport() {
          return self.#running().transport;
        },
        replication: this.#replication,
        dataDir: this.#opts.dataDir,
        peers: () => this.#peerIds(),
        live: () => this.#live(),
        waitReply: (peerId, reqId) => this.#waitReply(peerId, reqId),
        changed: () => this.#changed(),
        generation: () => this.#generation,
        requestTimeoutMs: this.#requestTimeoutMs,
        ackTimeoutMs: this.#ackTimeoutMs,
      },
      {
        ...(this.#opts.repairIntervalMs !== undefined
          ? { intervalMs: this.#opts.repairIntervalMs }
          : {}),
        ...(this.#opts.repairRateBytesPerSec !== undefined
          ? { rateBytesPerSec: this.#opts.repairRateBytesPerSec }
          : {}),
        ...(this.#opts.tombstoneTtlMs !== undefined
          ? { tombstoneTtlMs: this.#opts.tombstoneTtlMs }
          : {}),
      },
    );
  }

  #createScrubber(): Scrubber {
    const self = this;
    return new Scrubber(
      {
        get cas() {
          return self.#running().cas;
        },
        log: this.#log,
        mayDrop: () => this.#replication > 0,
        dropped: () => {
          this.metrics.integrityFailures.inc({ source: 'local' });
          this.#changed();
          // peers push the missing copy back in their next round; ask for one soon
          this.#repair?.peersChanged();
        },
      },
      {
        intervalMs: this.#opts.scrubIntervalMs ?? 86_400_000,
        ...(this.#opts.scrubRateBytesPerSec !== undefined
          ? { rateBytesPerSec: this.#opts.scrubRateBytesPerSec }
          : {}),
      },
    );
  }

  /**
   * Re-reads every local blob now (also run periodically) and drops copies whose bytes no longer
   * match their digest, for repair to replace; resolves with what the pass found.
   */
  async scrub(): Promise<ScrubReport> {
    this.#running();
    return this.#scrub!.runPass();
  }

  /** Runs one anti-entropy repair round now (also run periodically); resolves when done. */
  async repair(): Promise<void> {
    this.#running();
    await this.#repair?.runRound();
  }

  /** Binds the peer transport, preferring the port kept from the last run when asked for port 0. */
  async #listen(node: NodeFile): Promise<string> {
    const wanted = this.#opts.listen ?? node.listen ?? '127.0.0.1:0';
    const candidates = [wanted];
    if (wanted.endsWith(':0') && node.listen && !node.listen.endsWith(':0')) {
      const host = wanted.slice(0, -2);
      if (node.listen.startsWith(`${host}:`)) candidates.unshift(node.listen);
    }
    let lastErr: unknown;
    for (const listen of candidates) {
      const transport = new TcpTransport({
        listen,
        nodeId: node.nodeId,
        ...(this.#clusterSecret ? { secret: this.#clusterSecret } : {}),
        limits: { streamWindow: STREAM_WINDOW, ...this.#opts.transportLimits },
        ...(this.#opts.advertise ? { advertise: this.#opts.advertise } : {}),
        logger: this.#log,
      });
      try {
        const address = await transport.listen();
        this.#wire(transport);
        this.#transport = transport;
        return address;
      } catch (err) {
        lastErr = err;
        await transport.close().catch(() => {});
        this.#log.debug({ listen, err }, 'could not listen, trying next address');
      }
    }
    throw lastErr;
  }

  #wire(t: TcpTransport): void {
    t.on('peer:connect', (info: PeerInfo) => this.#onPeerConnect(info));
    t.on('peer:disconnect', (info: PeerInfo, reason: Error) =>
      this.#onPeerDisconnect(info, reason),
    );
    t.on('message', (peerId: string, msg: unknown) => this.#onMessage(peerId, msg));
    t.on('stream', (peerId: string, header: unknown, stream: Readable) =>
      this.#onStream(peerId, header, stream),
    );
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    if (this.#state === 'new') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    await this.#teardown();
    this.#state = 'stopped';
    this.#log.info({ nodeId: this.#node?.nodeId }, 'peerstash node stopped');
  }

  async #teardown(): Promise<void> {
    const repairDone = this.#repair?.stop();
    const scrubDone = this.#scrub?.stop();
    if (this.#aliveTimer) {
      clearInterval(this.#aliveTimer);
      this.#aliveTimer = undefined;
      await this.#aliveWrite;
      await writeLastAlive(this.#opts.dataDir).catch(() => {});
    }
    this.#halt.abort(new ClosedError('file server stopped'));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#savePeersTimer) {
      clearTimeout(this.#savePeersTimer);
      this.#savePeersTimer = undefined;
      await this.#savePeers().catch(() => {});
    }
    this.#replies.failAll(new ClosedError('file server stopped'));
    await this.#api?.close().catch((err) => this.#log.warn({ err }, 'closing the API failed'));
    await this.#transport
      ?.close()
      .catch((err) => this.#log.warn({ err }, 'closing the transport failed'));
    await repairDone;
    await scrubDone;
    // writes in progress were aborted: wait for their clean-up, so nothing touches the data dir
    // once stop() resolves
    await this.#cas?.idle();
    await removeApiInfo(this.#opts.dataDir).catch(() => {});
  }

  /**
   * Compares the downtime with the tombstone TTL: past it, the cluster may have pruned tombstones
   * of files this node still holds, and repair would bring them back. Then keeps the mark fresh.
   */
  async #noteDowntime(dataDir: string): Promise<void> {
    const last = await readLastAlive(dataDir);
    this.#offlineMs = last === undefined ? null : Math.max(0, Date.now() - last);
    if (this.#tombstonesMayBeMissed()) {
      const days = (ms: number) => Math.round((ms / 86_400_000) * 10) / 10;
      this.#log.warn(
        { offlineDays: days(this.#offlineMs!), tombstoneTtlDays: days(this.#tombstoneTtlMs()) },
        'this node was down longer than the tombstone TTL: files deleted everywhere meanwhile may ' +
          'come back from it; wipe its blobs before it rejoins, or keep tombstones longer',
      );
    }
  }

  /**
   * Marks the node alive, now and hourly; only once it runs, so a start that fails keeps the
   * downtime it found for the next attempt to report.
   */
  async #startAliveMark(): Promise<void> {
    const dataDir = this.#opts.dataDir;
    await writeLastAlive(dataDir).catch((err) =>
      this.#log.warn({ err }, 'could not write the last-alive mark'),
    );
    this.#aliveTimer = setInterval(() => {
      this.#aliveWrite = writeLastAlive(dataDir).catch((err) =>
        this.#log.debug({ err }, 'could not refresh the last-alive mark'),
      );
    }, ALIVE_EVERY_MS);
    this.#aliveTimer.unref();
  }

  #tombstoneTtlMs(): number {
    return this.#opts.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
  }

  #tombstonesMayBeMissed(): boolean {
    return this.#offlineMs !== null && this.#offlineMs > this.#tombstoneTtlMs();
  }

  async #removeStaleTemps(dataDir: string): Promise<void> {
    for (const name of await readdir(dataDir)) {
      if (name.endsWith('.tmp')) await rm(join(dataDir, name), { force: true });
    }
  }

  /** Peers may talk to the node from the moment its transport listens, before start() returns. */
  #live(): boolean {
    return (this.#state === 'running' || this.#state === 'starting') && !!this.#cas;
  }

  #running(): { node: NodeFile; cas: CasStore; transport: TcpTransport } {
    if (!this.#live() || !this.#node || !this.#cas || !this.#transport) {
      throw new ClosedError();
    }
    return { node: this.#node, cas: this.#cas, transport: this.#transport };
  }

  /**
   * A local write's signal: aborted by the caller's signal or by stop(); call `unlink()` once the
   * write is over. (Not AbortSignal.any: on Node 20 every composite of the node-long stop signal
   * stays referenced by it, a leak per put.)
   */
  #writeSignal(signal: AbortSignal | undefined): { signal: AbortSignal; unlink(): void } {
    const halt = this.#halt.signal;
    if (!signal) return { signal: halt, unlink: () => {} };
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal.aborted ? signal.reason : halt.reason);
    if (signal.aborted || halt.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    halt.addEventListener('abort', onAbort, { once: true });
    return {
      signal: ac.signal,
      unlink: () => {
        signal.removeEventListener('abort', onAbort);
        halt.removeEventListener('abort', onAbort);
      },
    };
  }

  #vault(): { vaultKey: Buffer; ns: string } {
    if (!this.#vaultKey || !this.#ns) throw new NoVaultKeyError();
    return { vaultKey: this.#vaultKey, ns: this.#ns };
  }

  #peerIds(): string[] {
    return [...new Set((this.#transport?.peers() ?? []).map((p) => p.id))];
  }

  // ---------------------------------------------------------------- public operations

  /**
   * Seals `source` with the vault key, writes it locally (atomic), then streams the sealed blob
   * to the replica peers; resolves when the local write and every reachable replica finished.
   */
  async store(key: string, source: ByteSource, options: SignalOption = {}): Promise<StoreResult> {
    const { cas, transport } = this.#running();
    checkKey(key);
    const { vaultKey, ns } = this.#vault();
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    const started = performance.now();
    const id = deriveFileId(vaultKey, key);
    const extra: Extra = {
      name: sealBytes(vaultKey, Buffer.from(key, 'utf8')).toString('base64'),
      chunkSize: this.#chunkSize,
      // the version's time: a tombstone older than this does not refuse it (see Durability)
      putAt: Date.now(),
    };
    const input = toReadable(source);
    const meter = new Meter({
      onBytes: (n) => this.metrics.bytesIn.inc({ via: 'client' }, n),
      idleMs: this.#idleTimeoutMs,
      what: 'upload',
    });
    const sealer = seal(vaultKey, { chunkSize: this.#chunkSize });
    // Replicas stream while the file is sealed and written here; each replica commits only once
    // the digest that follows (store-commit) matches, so put costs max(local, replicas), not the sum.
    const targets = rankNodes(id, this.#peerIds()).slice(0, this.#replication);
    const pushes = await Promise.all(
      targets.map((peerId) => this.#openPush(transport, peerId, ns, id, extra)),
    );
    const live = pushes.filter((p): p is Push => p !== undefined);
    const local = new PassThrough({ highWaterMark: 1024 * 1024 });
    const fanout = new Fanout(
      local,
      live.map((p) => p.input),
      (w, err) => {
        const push = live.find((p) => p.input === w);
        if (push && !push.error) push.error = err;
      },
    );
    let written: { size: number; digest: string };
    const writeSignal = this.#writeSignal(signal);
    try {
      const piping = pipeline(
        input,
        meter,
        sealer,
        new Rechunk(REPLICA_PIECE),
        fanout,
        signal ? { signal } : {},
      );
      const writing = cas
        .write(ns, id, local, { extra, signal: writeSignal.signal })
        .finally(() => this.#changed());
      written = await bothDone(writing, piping);
    } catch (err) {
      input.destroy();
      sealer.destroy();
      fanout.destroy();
      for (const p of live) {
        p.input.destroy(new AbortedError('the local write failed'));
        p.waiter.cancel();
      }
      this.metrics.puts.inc({ result: 'error' });
      throw this.#mapAbort(err, signal);
    } finally {
      writeSignal.unlink();
    }

    const acks = await Promise.all(
      live.map((push) =>
        this.#commitPush(transport, push, written).then(
          () => true,
          (err) => {
            this.metrics.replicaFailures.inc();
            this.#log.warn(
              { peer: push.peerId, code: errorCode(err), err },
              'replica write failed',
            );
            return false;
          },
        ),
      ),
    );
    const replicas = acks.filter(Boolean).length;
    this.metrics.puts.inc({ result: 'ok' });
    this.metrics.transferDuration.observe({ op: 'store' }, (performance.now() - started) / 1000);
    this.#log.debug({ id, size: meter.bytes, replicas, of: targets.length }, 'stored');
    return { key, size: meter.bytes, digest: written.digest, replicas };
  }

  /** Opens a replica stream to one peer; undefined (and counted) when that fails. */
  async #openPush(
    transport: TcpTransport,
    peerId: string,
    ns: string,
    id: string,
    extra: Extra,
  ): Promise<Push | undefined> {
    const reqId = randomBytes(9).toString('base64url');
    const waiter = this.#waitReply(peerId, reqId);
    try {
      const offer: StoreOffer = { type: 'store-offer', reqId, ns, id, extra };
      const out = await transport.openStream(peerId, offer);
      const input = new Meter({
        onBytes: (n) => this.metrics.bytesOut.inc({ via: 'peer' }, n),
        idleMs: this.#idleTimeoutMs,
        what: 'replica push',
        // slack so one replica's momentary stall does not stop the others and the local write
        highWaterMark: 1024 * 1024,
      });
      const push: Push = {
        peerId,
        reqId,
        waiter,
        input,
        started: performance.now(),
        sent: pipeline(input, out),
      };
      push.sent.catch((err) => {
        if (!push.error) push.error = err;
      });
      return push;
    } catch (err) {
      waiter.cancel();
      this.metrics.replicaFailures.inc();
      this.#log.warn({ peer: peerId, code: errorCode(err) }, 'cannot open a replica stream');
      return undefined;
    }
  }

  /** After the local write: tell the replica the digest and wait for its acknowledgement. */
  async #commitPush(
    transport: TcpTransport,
    push: Push,
    written: { size: number; digest: string },
  ): Promise<void> {
    try {
      await push.sent.catch(() => {});
      if (push.error) throw push.error;
      const commit: StoreCommit = { type: 'store-commit', reqId: push.reqId, ...written };
      await transport.send(push.peerId, commit);
      push.waiter.arm(this.#ackTimeoutMs);
      const reply = await push.waiter.promise;
      if (reply.kind !== 'message' || reply.msg.type !== 'store-ack') {
        throw new ProtocolError('expected a store-ack');
      }
      if (!reply.msg.ok) {
        throw new FileServerError(reply.msg.code ?? 'ERR_PROTOCOL', 'peer refused the replica');
      }
      this.metrics.replicasAcked.inc();
      this.metrics.transferDuration.observe(
        { op: 'push' },
        (performance.now() - push.started) / 1000,
      );
    } finally {
      push.waiter.cancel();
    }
  }

  /** Plaintext of `key`, from this node or fetched (and verified) from a peer. */
  async get(key: string, options: SignalOption = {}): Promise<Readable> {
    return (await this.read(key, options)).stream;
  }

  /**
   * Like get, with the plaintext size, the sealed digest and where the blob came from.
   *
   * A local copy is opened straight away (every chunk HMAC-verified before release) rather than
   * re-hashed first. Without one, the first peer that has the blob streams it; its bytes are
   * opened for the caller and written to the local store at the same time (committed only if
   * they match the peer's digest). If the copy being read goes bad mid-way (a rotten chunk, a peer
   * that dies or stalls), the next copy with the same digest takes over at the same plaintext
   * byte, so the caller gets the right bytes, each once, and a rotten local copy is replaced.
   */
  async read(key: string, options: SignalOption = {}): Promise<ReadResult> {
    const { cas } = this.#running();
    checkKey(key);
    const { vaultKey, ns } = this.#vault();
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    const started = performance.now();
    const id = deriveFileId(vaultKey, key);
    const tried = new Set<string>();
    let src: PlainSource | undefined;
    let rotten = false;
    const meta = await this.#localMeta(cas, ns, id);
    if (meta) {
      try {
        src = await this.#openLocal(cas, vaultKey, ns, id);
      } catch (err) {
        if (errorCode(err) !== 'ERR_INTEGRITY') throw err;
        this.#noteLocalRot(id, err);
        rotten = true;
      }
    }
    src ??= await this.#openFromPeers(key, ns, id, undefined, rotten, tried, signal);
    const opened = src;
    const self = this;
    async function* plaintext(): AsyncGenerator<Buffer> {
      let cur = opened;
      let delivered = 0;
      let corrupt = rotten;
      const abandoned: Promise<unknown>[] = [];
      try {
        for (;;) {
          let skip = delivered;
          let pending = cur.first;
          cur.first = null;
          try {
            for (;;) {
              let c: Buffer;
              if (pending) {
                c = pending;
                pending = null;
              } else {
                const r = await cur.it.next();
                if (r.done) break;
                c = r.value;
              }
              if (skip > 0) {
                if (c.length <= skip) {
                  skip -= c.length;
                  continue;
                }
                c = c.subarray(skip);
                skip = 0;
              }
              delivered += c.length;
              yield c;
            }
            await cur.finish();
            // copies given up on leave nothing behind by the time the reader sees the end
            await Promise.allSettled(abandoned);
            self.metrics.transferDuration.observe(
              { op: 'get' },
              (performance.now() - started) / 1000,
            );
            return;
          } catch (err) {
            cur.close();
            abandoned.push(cur.settled);
            if (!self.#live() || signal?.aborted) throw err;
            const code = errorCode(err);
            if (cur.origin === 'local') {
              if (code !== 'ERR_INTEGRITY') throw err;
              self.#noteLocalRot(id, err);
            } else {
              tried.add(cur.peerId!);
              if (code === 'ERR_INTEGRITY') self.#reportCorrupt(cur.peerId!, ns, id, 'bad chunk');
              else
                self.#log.info({ peer: cur.peerId, code }, 'fetch broke off; trying another peer');
            }
            if (code === 'ERR_INTEGRITY') corrupt = true;
            // bytes already went out: only the very same blob may continue them
            try {
              cur = await self.#openFromPeers(key, ns, id, opened.digest, corrupt, tried, signal);
            } catch (next) {
              // nobody can continue: report why the transfer broke, not a missing file
              if (errorCode(next) === 'ERR_NOT_FOUND') throw err;
              throw next;
            }
          }
        }
      } finally {
        cur.close();
      }
    }
    const stream = Readable.from(plaintext(), { objectMode: false, highWaterMark: 256 * 1024 });
    if (signal) {
      const onAbort = () => stream.destroy(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    this.metrics.gets.inc({ source: src.origin });
    return { stream, size: src.size, digest: src.digest, source: src.origin };
  }

  async #localMeta(cas: CasStore, ns: string, id: string): Promise<BlobMeta | undefined> {
    return cas.stat(ns, id).catch((err) => {
      if (errorCode(err) === 'ERR_NOT_FOUND') return undefined;
      throw err;
    });
  }

  /** Opens the local blob and reads its first verified chunk. */
  async #openLocal(cas: CasStore, vaultKey: Buffer, ns: string, id: string): Promise<PlainSource> {
    const { stream, meta } = await cas.read(ns, id);
    const opener = openSealed(vaultKey);
    pipeline(stream, opener).catch(() => {
      // the error reaches the reader of `opener`
    });
    const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let first: Buffer | null;
    try {
      const r = await it.next();
      first = r.done ? null : r.value;
    } catch (err) {
      opener.destroy();
      throw err;
    }
    return {
      it,
      first,
      size: this.#plainSize(meta),
      digest: meta.digest,
      origin: 'local',
      finish: async () => {},
      close: () => opener.destroy(),
      settled: Promise.resolve(),
    };
  }

  #noteLocalRot(id: string, err: unknown): void {
    this.metrics.integrityFailures.inc({ source: 'local' });
    this.#log.warn(
      { id, code: errorCode(err) },
      'local blob failed verification; reading a replica',
    );
  }

  /** Whether this node holds a copy of `key`. */
  async has(key: string): Promise<boolean> {
    const { cas } = this.#running();
    checkKey(key);
    const { vaultKey, ns } = this.#vault();
    return cas.has(ns, deriveFileId(vaultKey, key));
  }

  /** Metadata of the local copy of `key`; NotFoundError when this node holds none. */
  async stat(key: string): Promise<FileInfo> {
    const { cas } = this.#running();
    checkKey(key);
    const { vaultKey, ns } = this.#vault();
    let meta: BlobMeta;
    try {
      meta = await cas.stat(ns, deriveFileId(vaultKey, key));
    } catch (err) {
      if (errorCode(err) === 'ERR_NOT_FOUND') throw new NotFoundError(`no such file: ${key}`);
      throw err;
    }
    return { key, size: this.#plainSize(meta), createdAt: meta.createdAt, digest: meta.digest };
  }

  /** Deletes the local copy; with `everywhere`, peers holding the key delete their replicas too. */
  async delete(
    key: string,
    options: { everywhere?: boolean; signal?: AbortSignal } = {},
  ): Promise<DeleteResult> {
    const { cas, transport } = this.#running();
    checkKey(key);
    const { vaultKey, ns } = this.#vault();
    const id = deriveFileId(vaultKey, key);
    const deleted = await cas.delete(ns, id).finally(() => this.#changed());
    this.metrics.deletes.inc({ scope: 'local' });
    let peers = 0;
    if (options.everywhere) {
      const results = await Promise.all(
        this.#peerIds().map((peerId) =>
          this.#askDelete(transport, peerId, ns, id, options.signal).catch((err) => {
            this.#log.warn({ peer: peerId, code: errorCode(err) }, 'peer delete failed');
            return false;
          }),
        ),
      );
      peers = results.filter(Boolean).length;
      await this.#repair?.recordDelete(ns, id);
    }
    return { deleted, peers };
  }

  /**
   * Files of this vault, sorted by key: those this node holds, or with `all` every file that this
   * node or any connected peer holds (storage-only peers included), each with `copies`, the number
   * of nodes holding its newest version. A peer that does not answer is left out (logged).
   */
  async list(options: { all?: boolean } = {}): Promise<FileEntry[]> {
    const { cas, transport, node } = this.#running();
    const { vaultKey, ns } = this.#vault();
    const out: FileEntry[] = [];
    const entry = (line: ListLine): FileEntry | undefined => {
      const name = line.extra.name;
      if (typeof name !== 'string') return undefined;
      let key: string;
      try {
        key = openBytes(vaultKey, Buffer.from(name, 'base64')).toString('utf8');
      } catch (err) {
        this.#log.warn({ id: line.id, code: errorCode(err) }, 'sealed file name does not open');
        return undefined;
      }
      // a name replayed under another file's id (a peer's mistake or malice) is not that file
      if (deriveFileId(vaultKey, key) !== line.id) return undefined;
      // deleted everywhere after this version: a returning peer's old copy is not a file
      const tomb = this.#repair?.tombstones.get(ns, line.id);
      if (tomb && tomb.deletedAt >= versionOf(line)) return undefined;
      return { key, size: this.#plainSize(line), createdAt: line.createdAt };
    };
    if (!options.all) {
      for await (const meta of cas.list(ns)) {
        const e = entry(lineOf(meta));
        if (e) out.push(e);
      }
    } else {
      const merge = new ListMerge();
      for await (const meta of cas.list(ns)) merge.add(lineOf(meta), node.nodeId);
      const peers = this.#peerIds();
      await Promise.all(peers.map((p) => this.#listFrom(transport, p, ns, merge)));
      if (!this.#live()) throw new ClosedError();
      for (const { line, copies } of merge.values()) {
        const e = entry(line);
        if (e) out.push({ ...e, copies });
      }
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** Adds what one peer holds in `ns` to `merge`; a peer that fails is logged and skipped. */
  async #listFrom(
    transport: TcpTransport,
    peerId: string,
    ns: string,
    merge: ListMerge,
  ): Promise<void> {
    const reqId = randomBytes(9).toString('base64url');
    const waiter = this.#waitReply(peerId, reqId);
    waiter.arm(this.#requestTimeoutMs);
    let stream: Readable | undefined;
    try {
      await transport.send(peerId, { type: 'list-request', reqId, ns } satisfies ListRequest);
      const reply = await waiter.promise;
      if (reply.kind !== 'stream' || reply.header.type !== 'list-response') {
        throw new ProtocolError('expected a list-response');
      }
      stream = reply.stream;
      const meter = new Meter({ idleMs: this.#idleTimeoutMs, what: 'list' });
      const body = stream.pipe(meter);
      stream.once('error', (err) => meter.destroy(err));
      // merged as it arrives: a peer cut off part-way still contributes what it did hold
      for await (const line of readListBody(body)) merge.add(line, peerId);
    } catch (err) {
      stream?.destroy();
      this.#log.info({ peer: peerId, code: errorCode(err) }, 'a peer did not list its files');
    } finally {
      waiter.cancel();
    }
  }

  /** A peer asks which blobs this node holds in a namespace: stream them as JSON lines. */
  async #serveList(peerId: string, req: ListRequest): Promise<void> {
    const { cas, transport } = this.#running();
    let out: Awaited<ReturnType<TcpTransport['openStream']>>;
    try {
      out = await transport.openStream(peerId, {
        type: 'list-response',
        reqId: req.reqId,
      } satisfies ListResponse);
    } catch (err) {
      this.#log.debug({ peer: peerId, err }, 'could not open a stream to the peer');
      return;
    }
    try {
      await pipeline(listBody(cas, req.ns), out);
    } catch (err) {
      this.#log.debug({ peer: peerId, code: errorCode(err) }, 'listing for a peer ended early');
    }
  }

  async status(): Promise<NodeStatus> {
    const { node, transport } = this.#running();
    const { blobs, bytes } = await this.#inventory();
    const mem = process.memoryUsage();
    return {
      nodeId: node.nodeId,
      listen: this.#address ?? '',
      api: this.#api?.url ?? null,
      storageOnly: !this.#vaultKey,
      secure: !!this.#clusterSecret,
      replicationFactor: this.#replication,
      namespace: this.#ns ?? null,
      peers: transport.peers().map((p) => ({
        id: p.id,
        listenAddr: p.listenAddr,
        remoteAddr: p.remoteAddr,
        outbound: p.outbound,
      })),
      blobs,
      bytes,
      ...(this.#repair?.status() ?? {
        keysHeld: 0,
        underReplicated: 0,
        repairInProgress: false,
        lastRepairAt: null,
        repairBytesSent: 0,
        repairSummaryBytes: 0,
        repairRounds: 0,
      }),
      ...(this.#scrub?.status() ?? {
        lastScrubAt: null,
        lastScrub: null,
        scrubInProgress: false,
        scrubRotten: 0,
      }),
      offlineBeforeStartMs: this.#offlineMs,
      tombstonesMayBeMissed: this.#tombstonesMayBeMissed(),
      process: {
        pid: process.pid,
        rss: mem.rss,
        maxRss: process.resourceUsage().maxRSS * 1024,
        uptime: process.uptime(),
      },
    };
  }

  /** A blob was written or deleted here: the cached inventory is stale. */
  #changed(): void {
    this.#generation++;
  }

  /**
   * Blob count and bytes across namespaces. Scanning reads every metadata file, so the result is
   * kept until the next local write or delete, and concurrent callers share one scan.
   */
  async #inventory(): Promise<{ blobs: number; bytes: number }> {
    const { cas } = this.#running();
    const gen = this.#generation;
    if (this.#counted && this.#counted.gen === gen) return this.#counted;
    if (!this.#counting || this.#counting.gen !== gen) {
      const scan = (async () => {
        let blobs = 0;
        let bytes = 0;
        for (const ns of await cas.namespaces()) {
          for await (const meta of cas.list(ns)) {
            blobs++;
            bytes += meta.size;
          }
        }
        const result = { gen, blobs, bytes };
        if (this.#generation === gen) this.#counted = result;
        return result;
      })();
      this.#counting = { gen, scan };
      scan
        .finally(() => {
          if (this.#counting?.scan === scan) this.#counting = undefined;
        })
        .catch(() => {});
    }
    return this.#counting.scan;
  }

  // ---------------------------------------------------------------- get path

  #plainSize(meta: { size: number; extra?: Record<string, unknown> }): number {
    const cs =
      typeof meta.extra?.chunkSize === 'number' ? meta.extra.chunkSize : DEFAULT_CHUNK_SIZE;
    try {
      return plainSizeOf(meta.size, cs) ?? meta.size;
    } catch {
      return meta.size;
    }
  }

  /**
   * Opens (ns, id) from the first peer that has it, in rendezvous order (placement peers first,
   * then everyone else), skipping peers already `tried`. A peer without it answers at once, so a
   * miss costs one round trip per peer. With `wantDigest`, only that exact blob will do.
   */
  async #openFromPeers(
    key: string,
    ns: string,
    id: string,
    wantDigest: string | undefined,
    rotten: boolean,
    tried: Set<string>,
    signal: AbortSignal | undefined,
  ): Promise<PlainSource> {
    const { transport } = this.#running();
    let corrupt = rotten;
    for (const peerId of rankNodes(id, this.#peerIds())) {
      if (tried.has(peerId)) continue;
      if (signal?.aborted) throw abortError(signal);
      const r = await this.#openFromPeer(transport, peerId, key, ns, id, wantDigest, signal);
      if (typeof r === 'object') return r;
      tried.add(peerId);
      if (r === 'corrupt') corrupt = true;
    }
    if (corrupt) throw new IntegrityError(`no sound copy of ${key} is left`);
    throw new NotFoundError(`no such file: ${key}`);
  }

  /**
   * Asks one peer for the blob. Its stream is opened for the reader and, through a fan-out, written
   * to the local store with cas-store's `expectedDigest` (the opener is the primary: a full disk
   * costs only the local copy, a bad chunk aborts both).
   */
  async #openFromPeer(
    transport: TcpTransport,
    peerId: string,
    key: string,
    ns: string,
    id: string,
    wantDigest: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PlainSource | FetchOutcome> {
    const { cas } = this.#running();
    const { vaultKey } = this.#vault();
    const reqId = randomBytes(9).toString('base64url');
    const waiter = this.#waitReply(peerId, reqId, signal);
    waiter.arm(this.#requestTimeoutMs);
    let stream: Readable | undefined;
    try {
      await transport.send(peerId, { type: 'get-request', reqId, ns, id } satisfies GetRequest);
      const reply = await waiter.promise;
      if (reply.kind === 'message') return 'missing';
      stream = reply.stream;
      const { header } = reply;
      if (header.type !== 'get-response') throw new ProtocolError('expected a get-response');
      const digest = header.digest!;
      if (wantDigest !== undefined && digest !== wantDigest) {
        // another version of the file: it cannot continue bytes already sent
        stream.destroy();
        return 'missing';
      }
      const extra = header.extra ?? {};
      if (!this.#nameMatches(extra, key)) {
        stream.destroy();
        this.#reportCorrupt(peerId, ns, id, 'sealed name does not match the key');
        return 'corrupt';
      }
      const started = performance.now();
      const meter = new Meter({
        onBytes: (n) => this.metrics.bytesIn.inc({ via: 'peer' }, n),
        idleMs: this.#idleTimeoutMs,
        what: 'replica fetch',
      });
      watchStarved(stream, meter, this.#stallTimeoutMs, 'replica fetch');
      const opener = openSealed(vaultKey);
      const toDisk = new PassThrough({ highWaterMark: 1024 * 1024 });
      const writing = cas
        .write(ns, id, toDisk, { extra, expectedDigest: digest, signal: this.#halt.signal })
        .finally(() => this.#changed());
      // a write that fails before it reads its source (mkdir/open errors) leaves toDisk
      // unread: drop it from the fan-out, or the reader waits on it until the idle timeout
      writing.catch((err: unknown) =>
        toDisk.destroy(err instanceof Error ? err : new Error(String(err))),
      );
      const fan = new Fanout(opener, [toDisk], (_w, err) =>
        this.#log.warn({ id, code: errorCode(err) }, 'cannot keep a local copy of a fetched blob'),
      );
      const incoming = stream;
      pipeline(incoming, meter, fan).catch((err) => opener.destroy(err));
      const close = () => {
        incoming.destroy();
        opener.destroy();
        toDisk.destroy();
      };
      const it = opener[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let first: Buffer | null;
      try {
        const r = await it.next();
        first = r.done ? null : r.value;
      } catch (err) {
        close();
        throw err;
      }
      const cs = typeof extra.chunkSize === 'number' ? extra.chunkSize : DEFAULT_CHUNK_SIZE;
      return {
        it,
        first,
        size: plainSizeOf(header.size!, cs) ?? header.size!,
        digest,
        origin: 'peer',
        peerId,
        finish: async () => {
          try {
            await writing;
            this.metrics.transferDuration.observe(
              { op: 'fetch' },
              (performance.now() - started) / 1000,
            );
          } catch (err) {
            if (errorCode(err) === 'ERR_INTEGRITY') {
              this.#reportCorrupt(peerId, ns, id, 'replica failed its digest');
            } else {
              this.#log.warn({ id, code: errorCode(err) }, 'fetched blob not kept locally');
            }
          }
        },
        close,
        settled: writing.catch(() => {}),
      };
    } catch (err) {
      stream?.destroy();
      if (signal?.aborted) throw abortError(signal);
      if (!this.#live()) throw new ClosedError();
      if (errorCode(err) === 'ERR_INTEGRITY') {
        this.#reportCorrupt(peerId, ns, id, 'replica failed verification');
        return 'corrupt';
      }
      this.#log.info({ peer: peerId, id, code: errorCode(err) }, 'fetch from peer failed');
      return 'failed';
    } finally {
      waiter.cancel();
    }
  }

  #nameMatches(extra: Extra, key: string): boolean {
    const name = extra.name;
    if (typeof name !== 'string' || !this.#vaultKey) return false;
    try {
      return openBytes(this.#vaultKey, Buffer.from(name, 'base64')).toString('utf8') === key;
    } catch {
      return false;
    }
  }

  #reportCorrupt(peerId: string, ns: string, id: string, why: string): void {
    this.metrics.integrityFailures.inc({ source: 'peer' });
    this.#log.warn({ peer: peerId, id, why }, 'replica from peer failed verification');
    this.#transport
      ?.send(peerId, { type: 'integrity-report', ns, id } satisfies IntegrityReport)
      .catch(() => {});
  }

  // ---------------------------------------------------------------- store path

  /**
   * A peer streams us a replica: keep it only if it matches the digest, offered up front or sent
   * after the stream in a store-commit (cas-store's late expectedDigest: hashed once, as written).
   */
  async #receiveReplica(peerId: string, offer: StoreOffer, stream: Readable): Promise<void> {
    const { cas, transport } = this.#running();
    const ack = (ok: boolean, code?: string) =>
      transport
        .send(peerId, { type: 'store-ack', reqId: offer.reqId, ok, ...(code ? { code } : {}) })
        .catch((err) => this.#log.debug({ peer: peerId, err }, 'could not ack replica'));
    if (this.#repair?.refuses(offer)) {
      // deleted everywhere after this version was written: never bring it back
      stream.destroy();
      await ack(false, 'ERR_DELETED');
      return;
    }
    const commit = offer.digest === undefined ? this.#waitReply(peerId, offer.reqId) : undefined;
    try {
      if (offer.digest !== undefined) {
        const existing = await cas.stat(offer.ns, offer.id).catch(() => undefined);
        if (existing && existing.digest === offer.digest) {
          stream.destroy();
          await ack(true);
          return;
        }
      }
      const meter = new Meter({
        onBytes: (n) => this.metrics.bytesIn.inc({ via: 'peer' }, n),
        idleMs: this.#idleTimeoutMs,
        what: 'replica receive',
      });
      const piping = pipeline(stream, meter);
      const expectedDigest =
        offer.digest ??
        (async () => {
          commit!.arm(this.#ackTimeoutMs);
          const reply = await commit!.promise;
          if (reply.kind !== 'message' || reply.msg.type !== 'store-commit') {
            throw new ProtocolError('expected a store-commit');
          }
          return reply.msg.digest;
        });
      const writing = cas
        .write(offer.ns, offer.id, meter, {
          extra: offer.extra,
          expectedDigest,
          signal: this.#halt.signal,
        })
        .finally(() => this.#changed());
      await bothDone(writing, piping);
      await ack(true);
    } catch (err) {
      stream.destroy();
      const code = errorCode(err) ?? 'ERR_PROTOCOL';
      if (code === 'ERR_INTEGRITY') this.metrics.integrityFailures.inc({ source: 'peer' });
      this.#log.warn({ peer: peerId, id: offer.id, code }, 'replica not kept');
      await ack(false, code);
    } finally {
      commit?.cancel();
    }
  }

  // ---------------------------------------------------------------- peer requests

  async #serveGet(peerId: string, req: GetRequest): Promise<void> {
    const { cas, transport } = this.#running();
    let read: Awaited<ReturnType<CasStore['read']>>;
    try {
      read = await cas.read(req.ns, req.id);
    } catch (err) {
      if (errorCode(err) !== 'ERR_NOT_FOUND') {
        this.#log.warn({ peer: peerId, id: req.id, code: errorCode(err) }, 'cannot serve blob');
      }
      const miss: GetResponse = { type: 'get-response', reqId: req.reqId, found: false };
      await transport.send(peerId, miss).catch(() => {});
      return;
    }
    const { stream, meta } = read;
    const header: GetResponse = {
      type: 'get-response',
      reqId: req.reqId,
      found: true,
      size: meta.size,
      digest: meta.digest,
      extra: (meta.extra ?? {}) as Extra,
    };
    let out: Awaited<ReturnType<TcpTransport['openStream']>>;
    try {
      out = await transport.openStream(peerId, header);
    } catch (err) {
      stream.destroy();
      this.#log.debug({ peer: peerId, err }, 'could not open a stream to the peer');
      return;
    }
    const started = performance.now();
    const meter = new Meter({
      onBytes: (n) => this.metrics.bytesOut.inc({ via: 'peer' }, n),
      idleMs: this.#idleTimeoutMs,
      what: 'replica serve',
    });
    try {
      await pipeline(stream, meter, out);
      this.metrics.transferDuration.observe({ op: 'serve' }, (performance.now() - started) / 1000);
    } catch (err) {
      this.#log.debug({ peer: peerId, code: errorCode(err) }, 'serving a blob ended early');
    }
  }

  async #serveDelete(peerId: string, req: DeleteRequest): Promise<void> {
    const { cas, transport } = this.#running();
    let deleted = false;
    try {
      deleted = await cas.delete(req.ns, req.id).finally(() => this.#changed());
      this.metrics.deletes.inc({ scope: 'peer' });
    } catch (err) {
      this.#log.warn({ peer: peerId, code: errorCode(err) }, 'peer delete failed locally');
    }
    await transport.send(peerId, { type: 'delete-ack', reqId: req.reqId, deleted }).catch(() => {});
  }

  async #askDelete(
    transport: TcpTransport,
    peerId: string,
    ns: string,
    id: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const reqId = randomBytes(9).toString('base64url');
    const waiter = this.#waitReply(peerId, reqId, signal);
    waiter.arm(this.#requestTimeoutMs);
    try {
      await transport.send(peerId, { type: 'delete', reqId, ns, id } satisfies DeleteRequest);
      const reply = await waiter.promise;
      return reply.kind === 'message' && reply.msg.type === 'delete-ack' && reply.msg.deleted;
    } finally {
      waiter.cancel();
    }
  }

  /** A peer says the replica it got from us is bad: re-hash ours and drop it if it is. */
  async #checkReplica(peerId: string, report: IntegrityReport): Promise<void> {
    const { cas } = this.#running();
    const k = `${report.ns}/${report.id}`;
    if (this.#checking.has(k) || !this.#scrub) return;
    this.#checking.add(k);
    try {
      // the scrubber's check: the version read, EIO counted as rot, cut short by stop()
      const verdict = await this.#scrub.verify(report.ns, report.id, { throttled: false });
      if (verdict === 'gone' || verdict.sound) return;
      // stop() may have come while the blob was read: nothing touches the data dir after it
      if (!this.#live()) return;
      this.metrics.integrityFailures.inc({ source: 'local' });
      this.#log.warn({ peer: peerId, id: report.id }, 'dropping a rotten replica a peer reported');
      // that version only: a sound one written meanwhile stays
      const { digest, createdAt } = verdict.meta;
      await cas
        .delete(report.ns, report.id, { ifMatch: { digest, createdAt } })
        .finally(() => this.#changed());
    } finally {
      this.#checking.delete(k);
    }
  }

  // ---------------------------------------------------------------- replies and dispatch

  #waitReply(peerId: string, reqId: string, signal?: AbortSignal): Waiter {
    return this.#replies.wait(peerId, reqId, signal);
  }

  #settle(peerId: string, reqId: string, reply: Parameters<Replies['settle']>[2]): boolean {
    return this.#replies.settle(peerId, reqId, reply);
  }

  #onMessage(peerId: string, raw: unknown): void {
    if (!this.#live()) return;
    let msg: PeerMessage;
    try {
      msg = parseMessage(raw);
    } catch (err) {
      this.#log.warn({ peer: peerId, code: errorCode(err), err }, 'dropped a bad message');
      return;
    }
    // every handler runs on its own; nothing here waits for a transfer
    const run = (p: Promise<void>) =>
      p.catch((err) => this.#log.warn({ peer: peerId, type: msg.type, err }, 'handler failed'));
    switch (msg.type) {
      case 'store-commit':
      case 'store-ack':
      case 'get-response':
      case 'delete-ack':
      case 'repair-summary-reply':
      case 'repair-have-reply':
        this.#settle(peerId, msg.reqId, { kind: 'message', msg });
        return;
      case 'repair-summary':
      case 'repair-have':
      case 'tombstone':
        if (this.#repair) run(this.#repair.handle(peerId, msg));
        return;
      case 'get-request':
        run(this.#serveGet(peerId, msg));
        return;
      case 'list-request':
        run(this.#serveList(peerId, msg));
        return;
      case 'delete':
        run(this.#serveDelete(peerId, msg));
        return;
      case 'peers':
        this.#learnPeers(msg);
        return;
      case 'integrity-report':
        run(this.#checkReplica(peerId, msg));
        return;
    }
  }

  #onStream(peerId: string, raw: unknown, stream: Readable): void {
    if (!this.#live()) {
      stream.destroy();
      return;
    }
    let header: ReturnType<typeof parseStreamHeader>;
    try {
      header = parseStreamHeader(raw);
    } catch (err) {
      this.#log.warn({ peer: peerId, code: errorCode(err) }, 'refused a stream with a bad header');
      stream.destroy();
      return;
    }
    if (header.type === 'store-offer') {
      this.#receiveReplica(peerId, header, stream).catch((err) =>
        this.#log.warn({ peer: peerId, err }, 'replica handler failed'),
      );
      return;
    }
    if (!this.#settle(peerId, header.reqId, { kind: 'stream', header, stream })) {
      // an answer nobody waits for any more (timed out, or already served by another peer)
      stream.destroy();
    }
  }

  // ---------------------------------------------------------------- peers

  #onPeerConnect(info: PeerInfo): void {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    const transport = this.#transport;
    if (!transport) return;
    this.#log.info({ peer: info.id, addr: info.listenAddr }, 'peer connected');
    this.#repair?.peersChanged();
    if (info.listenAddr) {
      this.#knownPeers.set(info.id, info.listenAddr);
      this.#dialing.delete(info.listenAddr);
      this.#schedulePeerSave();
    }
    const everyone: PeerAddr[] = [];
    const announced = this.#opts.advertise ?? this.#address;
    if (announced && this.#node) everyone.push({ id: this.#node.nodeId, addr: announced });
    for (const p of transport.peers())
      if (p.listenAddr) everyone.push({ id: p.id, addr: p.listenAddr });
    transport
      .send(info.id, { type: 'peers', peers: everyone } satisfies PeersMessage)
      .catch(() => {});
    if (info.listenAddr) {
      const news: PeersMessage = { type: 'peers', peers: [{ id: info.id, addr: info.listenAddr }] };
      for (const p of transport.peers()) {
        if (p.id !== info.id) transport.send(p.id, news).catch(() => {});
      }
    }
  }

  #onPeerDisconnect(info: PeerInfo, reason: Error): void {
    this.#log.info({ peer: info.id, code: errorCode(reason) }, 'peer disconnected');
    const gone = new NotConnectedError(`peer ${info.id.slice(0, 8)} disconnected`, {
      cause: reason,
    });
    // a peer that is still connected over another link keeps its requests
    if (this.#transport?.peers().some((p) => p.id === info.id)) return;
    this.#replies.failPeer(info.id, gone);
    this.#repair?.peersChanged();
  }

  #learnPeers(msg: PeersMessage): void {
    const transport = this.#transport;
    const self = this.#node?.nodeId;
    if (!transport || !self) return;
    const connected = new Set(transport.peers().map((p) => p.id));
    for (const { id, addr } of msg.peers) {
      if (id === self || connected.has(id) || addr === this.#address) continue;
      this.#knownPeers.set(id, addr);
      // both ends learn of each other at once; the lower id dials first, the other only if
      // no link appeared after a grace period, so the pair usually ends up with one link
      if (self < id) this.#dial(addr);
      else {
        const t = setTimeout(
          () => {
            this.#timers.delete(t);
            if (!this.#live()) return;
            if (!this.#transport?.peers().some((p) => p.id === id)) this.#dial(addr);
          },
          PEER_DIAL_GRACE_MS + Math.floor(Math.random() * 500),
        );
        t.unref();
        this.#timers.add(t);
      }
    }
  }

  #dial(addr: string): void {
    if (!this.#transport || addr === this.#address || this.#dialing.has(addr)) return;
    if (this.#transport.peers().some((p) => p.listenAddr === addr)) return;
    this.#dialing.add(addr);
    try {
      this.#transport.connect(addr);
    } catch (err) {
      this.#dialing.delete(addr);
      this.#log.warn({ addr, code: errorCode(err) }, 'cannot dial peer');
    }
  }

  #schedulePeerSave(): void {
    if (this.#savePeersTimer) return;
    this.#savePeersTimer = setTimeout(() => {
      this.#savePeersTimer = undefined;
      this.#savePeers().catch((err) => this.#log.debug({ err }, 'could not save peers'));
    }, 1000);
    this.#savePeersTimer.unref();
  }

  async #savePeers(): Promise<void> {
    if (!this.#node) return;
    const peers = [...this.#knownPeers].slice(-MAX_SAVED_PEERS).map(([id, addr]) => ({ id, addr }));
    this.#node.peers = peers;
    await saveNode(this.#opts.dataDir, this.#node);
  }

  #mapAbort(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return abortError(signal);
    if (this.#halt.signal.aborted) return new ClosedError('file server stopped', { cause: err });
    if (errorCode(err) === 'ABORT_ERR') return new AbortedError(undefined, { cause: err });
    return err;
  }
}
