// The gateway's Backend over a FileServer: keys are the vault's file keys, listings come from the
// cluster catalog, attributes (ETag, content type, x-amz-meta-*) are sealed in each record.
// Multipart parts stay in the node's sealed PartSpool; compose streams them into one store, or
// finishes the one a Speculator began while the parts arrived (speculation.ts).

import type { FileServer, ListedFile } from '@peerstash/fileserver';
import {
  AbortedError,
  type Attributes,
  type Backend,
  type ComposeOptions,
  ConflictError,
  GatewayError,
  IntegrityError,
  InvalidKeyError,
  InvalidRangeError,
  type ListOptions,
  type ListPage,
  NoSpaceError,
  NotFoundError,
  type ObjectInfo,
  type ReadOptions,
  type ReadResult,
  type SignalOptions,
  type WriteOptions,
  type WriteResult,
} from '@peerstash/gateway';
import type { Logger } from '../logger.js';
import { compareKeys, mergePages } from './key-page.js';
import { PARTS_PREFIX, PartSpool } from './part-spool.js';
import { Speculator } from './speculator.js';

/** The catalog's page limit. */
const MAX_PAGE = 10_000;

/** FileServer codes the gateway knows under another name; the rest pass through unchanged. */
export function toGatewayError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const options = { cause: err };
  switch (code) {
    case 'ERR_NOT_FOUND':
      return new NotFoundError(message, options);
    case 'ERR_INVALID_KEY':
    case 'ERR_INVALID_PATH':
      return new InvalidKeyError(message, options);
    case 'ERR_RANGE_NOT_SATISFIABLE':
      return new InvalidRangeError(message, options);
    case 'ERR_INTEGRITY':
      return new IntegrityError(message, options);
    case 'ERR_NO_SPACE':
      return new NoSpaceError(message, options);
    case 'ERR_ABORTED':
      return new AbortedError(message, options);
    // a delete of the key took the copy this put was making (fileserver: 409): the client may retry
    case 'ERR_DELETED':
      return new ConflictError(message, options);
    case 'ERR_NOT_CONNECTED':
    case 'ERR_TIMEOUT':
    case 'ERR_CLOSED':
      return new GatewayError(code, message, options);
    default:
      return err;
  }
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toGatewayError(err);
  }
}

function stringAttributes(attrs: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) {
    out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v);
  }
  return out;
}

function infoOf(f: Pick<ListedFile, 'key' | 'size' | 'version' | 'modified' | 'attributes'>) {
  const info: ObjectInfo = {
    key: f.key,
    size: f.size,
    modifiedAt: f.modified,
    version: f.version,
    attributes: stringAttributes(f.attributes),
  };
  return info;
}

export interface FileServerBackendOptions {
  /** Begin a multipart upload's object as its parts arrive (default true). */
  speculate?: boolean;
  /** How long a speculative store waits for its next part before giving up (default 10 s). */
  maxWaitMs?: number;
  logger?: Logger;
}

export class FileServerBackend implements Backend {
  readonly #node: FileServer;
  readonly #spool: PartSpool;
  readonly #speculator: Speculator | undefined;

  constructor(node: FileServer, spool: PartSpool, options: FileServerBackendOptions = {}) {
    this.#node = node;
    this.#spool = spool;
    if (options.speculate !== false) {
      this.#speculator = new Speculator(
        {
          store: (key, source, o) =>
            mapped(async () => {
              const r = await node.store(key, source, o);
              return {
                size: r.size,
                version: r.digest,
                modifiedAt: r.modified,
                replicas: r.replicas,
              };
            }),
          read: (key) => this.read(key),
          replicasWanted: async () => {
            const st = await node.status();
            return Math.min(st.replicationFactor, st.peers.length);
          },
        },
        {
          ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
          logger: options.logger,
        },
      );
    }
  }

  /** Multipart completions that took the speculative path, and those that fell back. */
  get compositions(): { speculative: number; fellBack: number } {
    return { ...(this.#speculator?.stats ?? { speculative: 0, fellBack: 0 }) };
  }

  /** How far `uploadId`'s speculative store got (tests and debugging). */
  speculation(uploadId: string): { fed: number; feeding?: number; alive: boolean } | undefined {
    return this.#speculator?.progress(uploadId);
  }

  /** Opens the part spool now (its sweep of stale parts runs at start, not on the first upload). */
  async open(): Promise<this> {
    await this.#spool.open();
    return this;
  }

  async list(options: ListOptions): Promise<ListPage> {
    if (PartSpool.holds(options.prefix)) return this.#spool.list(options);
    const cluster = await this.#listCluster(options);
    // a prefix above the parts folder ('', '.s3/') covers both stores
    if (!PARTS_PREFIX.startsWith(options.prefix)) return cluster;
    const limit = Math.max(1, options.limit);
    const spool = await this.#spool.list({ ...options, limit });
    return mergePages(cluster, spool, limit);
  }

  async #listCluster(options: ListOptions): Promise<ListPage> {
    return mapped(async () => {
      const page = await this.#node.listPage({
        prefix: options.prefix,
        limit: Math.max(1, Math.min(options.limit, MAX_PAGE)),
        ...(options.delimiter ? { delimiter: options.delimiter } : {}),
        ...(options.after !== undefined ? { after: options.after } : {}),
      });
      const out: ListPage = { entries: page.files.map(infoOf), prefixes: page.prefixes };
      if (page.next !== undefined) out.next = page.next;
      return out;
    });
  }

  async stat(key: string, _options?: SignalOptions): Promise<ObjectInfo | undefined> {
    if (PartSpool.holds(key)) return this.#spool.stat(key);
    try {
      return infoOf(await this.#node.info(key));
    } catch (err) {
      const mappedErr = toGatewayError(err);
      if (mappedErr instanceof NotFoundError) return undefined;
      throw mappedErr;
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<ReadResult> {
    if (PartSpool.holds(key)) return mapped(() => this.#spool.read(key, options));
    return mapped(async () => {
      const r = await this.#node.read(key, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.range ? { range: { start: options.range.start, end: options.range.end } } : {}),
      });
      r.stream.on('error', () => {});
      const stream = r.stream;
      // the stream's own errors keep the fileserver codes, which the gateway maps by code alike
      const info: ObjectInfo = {
        key,
        size: r.size,
        modifiedAt: r.modified ?? Date.now(),
        version: r.digest,
        attributes: stringAttributes(r.attributes),
      };
      return { stream, info };
    });
  }

  async write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    if (PartSpool.holds(key)) {
      const spool = (s: AsyncIterable<Uint8Array>) =>
        mapped(() => this.#spool.write(key, s, options));
      const hint = options.part;
      return hint && this.#speculator
        ? this.#speculator.write(key, source, hint, spool)
        : spool(source);
    }
    return mapped(async () => {
      const r = await this.#node.store(key, source, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.attributes ? { attributes: options.attributes } : {}),
      });
      return { size: r.size, version: r.digest, modifiedAt: r.modified };
    });
  }

  async delete(key: string, options: SignalOptions = {}): Promise<boolean> {
    if (PartSpool.holds(key)) {
      await this.#speculator?.deleted(key);
      return this.#spool.delete(key);
    }
    return mapped(async () => {
      if ((await this.stat(key, options)) === undefined) return false;
      const r = await this.#node.delete(key, {
        everywhere: true,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return r.deleted;
    });
  }

  /**
   * One streaming store of the sources in order (spooled parts are opened and verified as they
   * go, one at a time), then the sources are deleted: compose consumes them, as the gateway
   * expects. A failed store keeps every source, so Complete can be retried.
   */
  async compose(
    key: string,
    sources: string[],
    options: ComposeOptions = {},
  ): Promise<WriteResult> {
    const parts: ObjectInfo[] = [];
    for (const s of sources) {
      const info = await this.stat(s, options);
      if (!info) throw new NotFoundError(`no object ${s} to compose`);
      parts.push(info);
    }
    const signal = options.signal;
    const attributes = options.attributes ?? {};
    const early = await this.#speculator?.compose(key, parts, attributes, signal);
    if (early) {
      await this.#consume(key, sources);
      return early;
    }
    const read = (k: string) => this.read(k, signal ? { signal } : {});
    async function* concatenated(): AsyncGenerator<Uint8Array> {
      for (const p of parts) {
        const r = await read(p.key);
        if (r.info.version !== p.version) {
          r.stream.destroy();
          throw new NotFoundError(`${p.key} changed while composing`);
        }
        for await (const chunk of r.stream) yield chunk as Uint8Array;
      }
    }
    const result = await this.write(key, concatenated(), {
      ...(signal ? { signal } : {}),
      attributes: () => attributes,
    });
    await this.#consume(key, sources);
    return result;
  }

  async #consume(key: string, sources: string[]): Promise<void> {
    for (const s of [...new Set(sources)].sort(compareKeys)) if (s !== key) await this.delete(s);
  }
}
