// The peerstash node's facade: resolves the config, builds the node's units in start(), stops them
// in one ordered list, and hands every public operation to the unit that owns it.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CasStore } from '@peerstash/cas-store';
import type { TcpTransport } from '@peerstash/transport-tcp';
import { type FileServerOptions, type NodeConfig, resolveConfig } from './config.js';
import {
  BLOBS_DIR,
  loadOrCreateNode,
  loadOrCreateToken,
  type NodeFile,
  removeApiInfo,
  resolveKeys,
  saveNode,
  writeApiInfo,
} from './data-dir.js';
import { DowntimeMark } from './downtime.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { registerHandlers } from './handlers/register.js';
import type { ApiBackend } from './http/api-backend.js';
import { ApiServer } from './http/api-server.js';
import { fileRoutes } from './http/file-routes.js';
import { addNodeRoutes } from './http/node-routes.js';
import { Inventory } from './inventory.js';
import { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { listenTransport } from './net/listen.js';
import { PeerMesh } from './net/peer-mesh.js';
import { PeerRpc } from './net/peer-rpc.js';
import { type NodeWarning, reachabilityWarnings } from './net/reachability.js';
import { type DeleteResult, deleteFile } from './ops/delete.js';
import { type FileEntry, listFiles } from './ops/list.js';
import { type FileInfo, hasFile, statFile } from './ops/local-file.js';
import { type ReadResult, readFile } from './ops/read.js';
import { type NodeStatus, nodeStatus } from './ops/status.js';
import { type StoreResult, storeFile } from './ops/store.js';
import { AntiEntropy } from './repair/anti-entropy.js';
import { Scrubber, type ScrubReport } from './repair/scrub.js';
import type { ByteSource } from './streams.js';
import { TombstoneStore } from './tombstones.js';
import { type Vault, vaultOf } from './vault.js';

interface SignalOption {
  signal?: AbortSignal;
}

/** The node's units, each built once in start(); a failed start stops the ones it got to. */
interface Units {
  node: NodeFile;
  vault: Vault | undefined;
  secure: boolean;
  downtime: DowntimeMark;
  cas: CasStore;
  inventory: Inventory;
  tombstones: TombstoneStore;
  transport: TcpTransport;
  address: string;
  rpc: PeerRpc;
  mesh: PeerMesh;
  repair: AntiEntropy;
  scrub: Scrubber;
  api: ApiServer;
}

/** What every operation receives: the units plus config, metrics and log (each takes what it uses). */
type Components = Omit<Units, 'api'> & {
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
    u.cas = new CasStore({ root: join(dataDir, BLOBS_DIR), logger: log });
    await u.cas.open();
    u.inventory = new Inventory(u.cas);
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
    const shared = {
      nodeId: node.nodeId,
      config,
      log,
      cas: u.cas,
      inventory: u.inventory,
      tombstones: u.tombstones,
      rpc,
      peerIds,
      live,
    };
    const repair = new AntiEntropy({ ...shared, tally: { bytesSent: 0, summaryBytes: 0 } });
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
    Object.assign(u, { rpc, mesh, repair, scrub });
    const c: Components = {
      ...(u as Omit<Units, 'api'>),
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
      addNodeRoutes(api, this, log);
      u.api = api;
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
    repair.start();
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

  /** Stops whatever start() built, in this order; each step tolerates a unit never built. */
  async #teardown(): Promise<void> {
    const u = this.#u;
    const closed = () => new ClosedError('file server stopped');
    const warn = (what: string) => (err: unknown) =>
      this.#log.warn({ err }, `closing ${what} failed`);
    let background: Promise<unknown> = Promise.resolve();
    const steps: Array<() => unknown> = [
      // 1. no new repair rounds or scrub passes; the ones in flight end below
      () => {
        background = Promise.all([u.repair?.stop(), u.scrub?.stop()]);
      },
      // 2. the last-alive mark, written once more
      () => u.downtime?.stop(),
      // 3. every disk write in progress gives up (store() rejects ERR_CLOSED)
      () => this.#life.stopWrites(),
      // 4. no new dials; node.json's peer list written if due
      () => u.mesh?.stop(),
      // 5. requests waiting on peers fail now, so nothing waits for a peer's deadline
      () => u.rpc?.failAll(closed()),
      // 6. the HTTP API, then the peer links
      () => u.api?.close().catch(warn('the API')),
      () => u.transport?.close().catch(warn('the transport')),
      // 7. the round and pass cut short, and the aborted writes' clean-up: nothing touches the
      //    data dir once stop() resolves
      () => background,
      () => u.cas?.idle(),
      () => removeApiInfo(this.#config.dataDir).catch(() => {}),
    ];
    for (const step of steps) await step();
  }

  /** What status().warnings holds now: about the addresses of the peers linked now. */
  #warnings(): NodeWarning[] {
    const { transport, address } = this.#u;
    if (!transport || !address) return [];
    return reachabilityWarnings({
      listen: address,
      advertise: this.#config.advertise,
      peerAddrs: transport
        .peers()
        .flatMap((p) => [p.listenAddr, p.remoteAddr].filter((a): a is string => !!a)),
    });
  }

  /** Each kind of warning goes to the log the first time it holds (status shows it while it does). */
  #logNewWarnings(): void {
    for (const w of this.#warnings()) {
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
  async store(key: string, source: ByteSource, options: SignalOption = {}): Promise<StoreResult> {
    return storeFile(this.#running(), key, source, options.signal);
  }

  /** Plaintext of `key`, from this node or fetched (and verified) from a peer. */
  async get(key: string, options: SignalOption = {}): Promise<Readable> {
    return (await this.read(key, options)).stream;
  }

  /** Like get, with the plaintext size, the sealed digest and where the blob came from. */
  async read(key: string, options: SignalOption = {}): Promise<ReadResult> {
    return readFile(this.#running(), key, options.signal);
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
  async delete(
    key: string,
    options: { everywhere?: boolean; signal?: AbortSignal } = {},
  ): Promise<DeleteResult> {
    return deleteFile(this.#running(), key, options);
  }

  /**
   * Files of this vault, sorted by key: those this node holds, or with `all` every file that this
   * node or any connected peer holds, each with `copies` (nodes holding its newest version).
   */
  async list(options: { all?: boolean } = {}): Promise<FileEntry[]> {
    return listFiles(this.#running(), !!options.all);
  }

  async status(): Promise<NodeStatus> {
    const c = this.#running();
    return nodeStatus({
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
      warnings: () => this.#warnings(),
      knownPeers: () => c.mesh.knownCount,
      inventory: c.inventory,
      repair: c.repair,
      scrub: c.scrub,
      downtime: c.downtime,
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
