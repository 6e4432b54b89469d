// The peerstash node's facade: resolves the config, builds the node's units in start(), stops them
// in one ordered list, and hands every public operation to the unit that owns it.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Catalog } from './catalog/catalog.js';
import { CATALOG_DIR } from './catalog/catalog-db.js';
import type { ListQuery } from './catalog/name-index.js';
import { serveCatalog } from './catalog/sync.js';
import { startWalk } from './catalog-walk.js';
import { type FileServerOptions, type NodeConfig, resolveConfig } from './config.js';
import {
  BLOBS_DIR,
  loadOrCreateNode,
  loadOrCreateToken,
  resolveKeys,
  saveNode,
  writeApiInfo,
} from './data-dir.js';
import { DowntimeMark } from './downtime.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { registerHandlers } from './handlers/register.js';
import { HeldStore } from './held-store.js';
import type { ApiBackend } from './http/api-backend.js';
import { addFronts } from './http/api-front.js';
import { ApiServer } from './http/api-server.js';
import type { RangeSpec } from './http/byte-range.js';
import { fileRoutes, statRoute } from './http/file-routes.js';
import { addNodeRoutes } from './http/node-routes.js';
import { addQuarantineRoutes } from './http/quarantine-routes.js';
import { Inventory } from './inventory.js';
import { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { catalogRpc } from './net/catalog-rpc.js';
import { listenTransport } from './net/listen.js';
import { PeerMesh } from './net/peer-mesh.js';
import { PeerRpc } from './net/peer-rpc.js';
import type { NodeWarning } from './net/reachability.js';
import { nodeCrypto } from './node-crypto.js';
import { type DeleteOptions, type DeleteResult, deleteFile } from './ops/delete.js';
import { type FileStatus, fileInfo } from './ops/info.js';
import { type FileEntry, type FilePage, listFiles, listPage } from './ops/list.js';
import { type FileInfo, hasFile, statFile } from './ops/local-file.js';
import {
  dropQuarantined,
  listQuarantine,
  type QuarantineEntry,
  releaseQuarantined,
} from './ops/quarantine.js';
import { type ReadResult, readFile } from './ops/read.js';
import { type Gateways, type NodeStatus, nodeStatus } from './ops/status.js';
import { type StoreOptions, type StoreResult, storeFile } from './ops/store.js';
import { AntiEntropy } from './repair/anti-entropy.js';
import { Scrubber, type ScrubReport } from './repair/scrub.js';
import type { ByteSource } from './streams.js';
import { TombstoneStore } from './tombstones.js';
import { linkedWarnings, stopUnits, type Units } from './units.js';
import { vaultOf } from './vault.js';

interface SignalOption {
  signal?: AbortSignal;
}

/** What every operation receives: the units plus config, metrics and log (each takes what it uses). */
type Components = Omit<Units, 'api' | 'fronts' | 'walk'> & {
  nodeId: string;
  config: NodeConfig;
  life: Lifecycle;
  metrics: ServerMetrics;
  log: Logger;
  peerIds(): string[];
};

export class FileServer implements ApiBackend {
  readonly #config: NodeConfig;
  readonly #log: Logger;
  readonly #life = new Lifecycle();
  readonly #u: Partial<Units> = {};
  #c: Components | undefined;
  #gateways: Gateways = {};
  readonly #warned = new Set<NodeWarning['code']>();
  readonly metrics: ServerMetrics;

  constructor(options: FileServerOptions) {
    this.#config = resolveConfig(options);
    this.#log = this.#config.log;
    this.metrics = createMetrics(() => this.#u.transport?.peers().length ?? 0);
  }

  /** This node's id (available after start). */
  get nodeId(): string {
    return this.#running().nodeId;
  }

  /** The bound peer listen address (available after start). */
  get address(): string | undefined {
    return this.#u.address;
  }

  /** The HTTP API base URL, when the API runs. */
  get apiUrl(): string | undefined {
    return this.#u.api?.url;
  }

  async start(): Promise<void> {
    if (this.#life.state !== 'new') throw new InvalidArgumentError('a FileServer starts only once');
    this.#life.state = 'starting';
    try {
      await this.#start();
      this.#life.state = 'running';
      await this.#u.downtime!.start();
    } catch (err) {
      await this.#teardown();
      this.#life.state = 'stopped';
      throw err;
    }
  }

  async #start(): Promise<void> {
    const config = this.#config;
    const { dataDir } = config;
    const log = this.#log;
    const u = this.#u;
    const node = await loadOrCreateNode(dataDir);
    await removeStaleTemps(dataDir);
    const keys = await resolveKeys(dataDir, {
      ...(config.vaultKey ? { vaultKey: config.vaultKey } : {}),
      ...(config.clusterSecret ? { clusterSecret: config.clusterSecret } : {}),
    });
    const token = await loadOrCreateToken(dataDir);
    u.node = node;
    u.vault = vaultOf(keys.vaultKey);
    u.secure = !!keys.clusterSecret;
    u.downtime = new DowntimeMark(dataDir, config.repair.tombstoneTtlMs, log);
    await u.downtime.note();
    // every node keeps the catalog, storage-only ones too: they hold and relay sealed records
    u.catalog = Catalog.open({
      path: join(dataDir, CATALOG_DIR),
      nodeId: node.nodeId,
      ...(u.vault ? { vault: { key: u.vault.vaultKey, ns: u.vault.ns } } : {}),
      tombstoneTtlMs: config.catalog.tombstoneTtlMs,
      maxDriftMs: config.catalog.maxDriftMs,
    });
    u.cas = new HeldStore({ root: join(dataDir, BLOBS_DIR), logger: log }, u.catalog.holdings);
    await u.cas.open();
    u.inventory = new Inventory(u.catalog.holdings);
    u.crypto = nodeCrypto(config.cryptoThreads);
    u.tombstones = new TombstoneStore(dataDir);
    await u.tombstones.load();
    const { transport, address } = await listenTransport(config, node, keys.clusterSecret);
    u.transport = transport;
    u.address = address;

    // peers may talk from here on: every unit is wired before the next await
    const live = () => this.#life.live();
    const rpc = new PeerRpc(transport, log, live);
    const mesh = new PeerMesh({
      transport,
      rpc,
      log,
      live,
      dataDir,
      node,
      address,
      advertise: config.advertise,
    });
    const peerIds = () => mesh.peerIds();
    const tally = { bytesSent: 0, summaryBytes: 0 };
    const catalogPeers = catalogRpc(rpc, peerIds, config.repair.requestTimeoutMs, log, (n) => {
      tally.summaryBytes += n;
    });
    serveCatalog(catalogPeers, u.catalog);
    const shared = {
      nodeId: node.nodeId,
      config,
      log,
      cas: u.cas,
      catalog: u.catalog,
      catalogRpc: catalogPeers,
      inventory: u.inventory,
      tombstones: u.tombstones,
      rpc,
      peerIds,
      live,
    };
    const repair = new AntiEntropy({ ...shared, tally });
    mesh.onChange(() => repair.peersChanged());
    mesh.onChange(() => this.#logNewWarnings());
    const scrub = new Scrubber({
      cas: u.cas,
      log,
      config: config.scrub,
      mayDrop: () => config.replication > 0,
      dropped: () => {
        this.metrics.integrityFailures.inc({ source: 'local' });
        u.inventory!.changed();
        // peers push the missing copy back in their next round; ask for one soon
        repair.peersChanged();
      },
    });
    Object.assign(u, { rpc, catalogRpc: catalogPeers, mesh, repair, scrub });
    const c: Components = {
      ...(u as Omit<Units, 'api' | 'fronts' | 'walk'>),
      ...shared,
      life: this.#life,
      metrics: this.metrics,
    };
    registerHandlers(c);
    this.#c = c;

    node.listen = address;
    await saveNode(dataDir, node);
    if (config.api) {
      const api = new ApiServer(token, log, config.api.allowedHosts);
      api.mount('/v1/files/', fileRoutes(this, log));
      api.mount('/v1/stat/', statRoute(this));
      addNodeRoutes(api, this, log);
      addQuarantineRoutes(api, this);
      u.api = api;
      u.fronts = [];
      const { allowedHosts, fronts } = config.api;
      await addFronts(api, fronts, { token, dataDir, allowedHosts, logger: log }, u.fronts);
      await api.listen(config.api.host, config.api.port);
      await writeApiInfo(dataDir, {
        url: api.url,
        host: config.api.host,
        port: api.port,
        pid: process.pid,
        nodeId: node.nodeId,
      });
    }
    // without a cluster secret the transport itself warns that links are plain TCP
    if (!u.vault) log.info({}, 'no vault key: storage-only node, keeps sealed replicas only');
    log.info({ nodeId: node.nodeId, listen: address, api: u.api?.url }, 'peerstash node started');
    this.#logNewWarnings();
    mesh.start(config.bootstrap);
    u.walk = startWalk({ nodeId: node.nodeId, cas: u.cas, catalog: u.catalog, log, live });
    repair.start(u.walk.done);
    scrub.start();
  }

  async stop(): Promise<void> {
    const state = this.#life.state;
    if (state === 'stopped' || state === 'stopping') return;
    if (state === 'new') {
      this.#life.state = 'stopped';
      return;
    }
    this.#life.state = 'stopping';
    await this.#teardown();
    this.#life.state = 'stopped';
    this.#log.info({ nodeId: this.#u.node?.nodeId }, 'peerstash node stopped');
  }

  /** Stops whatever start() built, in its order (units.ts); each step tolerates a unit never built. */
  async #teardown(): Promise<void> {
    await stopUnits(this.#u, this.#life, this.#log, this.#config.dataDir);
  }

  /** Each kind of warning goes to the log the first time it holds (status shows it while it does). */
  #logNewWarnings(): void {
    for (const w of linkedWarnings(this.#u, this.#config.advertise)) {
      if (this.#warned.has(w.code)) continue;
      this.#warned.add(w.code);
      this.#log.warn({ code: w.code, peers: w.peers }, w.message);
    }
  }

  /** The components, or ERR_CLOSED when the node is not (yet, or any more) running. */
  #running(): Components {
    if (!this.#life.live() || !this.#c) throw new ClosedError();
    return this.#c;
  }

  // ---------------------------------------------------------------- public operations

  /**
   * Seals `source` with the vault key, writes it locally (atomic), then streams the sealed blob
   * to the replica peers; resolves when the local write and every reachable replica finished.
   */
  async store(key: string, source: ByteSource, options: StoreOptions = {}): Promise<StoreResult> {
    return storeFile(this.#running(), key, source, options);
  }

  /** Plaintext of `key`, from this node or fetched (and verified) from a peer. */
  async get(key: string, options: SignalOption = {}): Promise<Readable> {
    return (await this.read(key, options)).stream;
  }

  /**
   * Like get, with the plaintext size, the sealed digest and where the blob came from. With
   * `range`, only those bytes (read and verified from the sealed records covering them).
   */
  async read(key: string, options: SignalOption & { range?: RangeSpec } = {}): Promise<ReadResult> {
    return readFile(this.#running(), key, options);
  }

  /** Whether this node holds a copy of `key`. */
  async has(key: string): Promise<boolean> {
    return hasFile(this.#running(), key);
  }

  /** Metadata of the local copy of `key`; NotFoundError when this node holds none. */
  async stat(key: string): Promise<FileInfo> {
    return statFile(this.#running(), key);
  }

  /** Deletes the local copy; with `everywhere`, peers holding the key delete their replicas too. */
  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return deleteFile(this.#running(), key, options);
  }

  /**
   * Files of this vault, sorted by key: those whose current version this node holds, or with
   * `all` every file of the cluster (from the catalog), each with `copies`.
   */
  async list(options: { all?: boolean } = {}): Promise<FileEntry[]> {
    return listFiles(this.#running(), !!options.all);
  }

  /**
   * One page of the cluster's files under `prefix`, in key order, from this node's catalog: with
   * a delimiter, folders come back once each as `prefixes`; `next` resumes after the page.
   */
  async listPage(query: ListQuery = {}): Promise<FilePage> {
    return listPage(this.#running(), query);
  }

  /** The current version of `key` in the cluster (catalog), with its holders when asked. */
  async info(key: string, options: { holders?: boolean } = {}): Promise<FileStatus> {
    return fileInfo(this.#running(), key, options);
  }

  /** Catalog records held back (see DESIGN.md, a node back after the tombstone TTL). */
  quarantined(): QuarantineEntry[] {
    return listQuarantine(this.#running());
  }

  /**
   * Confirms a held-back file (`release`: it spreads again, with a fresh clock) or forgets its
   * record (`drop`); false when nothing of `key` is held back.
   */
  async settleQuarantined(key: string, action: 'release' | 'drop'): Promise<boolean> {
    const c = this.#running();
    return action === 'release' ? releaseQuarantined(c, key) : dropQuarantined(c, key);
  }

  /** Names the gateway listeners serving this node, for status() to report. */
  setGateways(gateways: Gateways): void {
    this.#gateways = { ...gateways };
  }

  async status(): Promise<NodeStatus> {
    const c = this.#running();
    return nodeStatus({
      gateways: this.#gateways,
      identity: {
        nodeId: c.nodeId,
        listen: c.address,
        advertise: c.config.advertise ?? c.address,
        api: this.#u.api?.url ?? null,
        storageOnly: !c.vault,
        secure: c.secure,
        replicationFactor: c.config.replication,
        namespace: c.vault?.ns ?? null,
      },
      peers: () => c.transport.peers(),
      warnings: () => linkedWarnings(this.#u, this.#config.advertise),
      knownPeers: () => c.mesh.knownCount,
      inventory: c.inventory,
      repair: c.repair,
      scrub: c.scrub,
      downtime: c.downtime,
      catalog: c.catalog,
      walking: () => this.#u.walk?.running() ?? false,
    });
  }

  /**
   * Re-reads every local blob now (also run periodically) and drops copies whose bytes no longer
   * match their digest, for repair to replace; resolves with what the pass found.
   */
  async scrub(): Promise<ScrubReport> {
    return this.#running().scrub.runPass();
  }

  /** Runs one anti-entropy repair round now (also run periodically); resolves when done. */
  async repair(): Promise<void> {
    await this.#running().repair.runRound();
  }
}

async function removeStaleTemps(dataDir: string): Promise<void> {
  for (const name of await readdir(dataDir)) {
    if (name.endsWith('.tmp')) await rm(join(dataDir, name), { force: true });
  }
}
