// The content-addressed blob store: atomic, crash-safe writes of (namespace, key) → bytes + metadata.
// The meta file is the commit record; blob files are immutable once named and only reachable through it.

import { randomBytes } from 'node:crypto';
import { type Dirent, constants as fsConstants } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortError,
  IntegrityError,
  InvalidArgumentError,
  NoSpaceError,
  NotFoundError,
} from './errors.js';
import { KeyLock } from './key-lock.js';
import {
  BLOB_SUFFIX,
  type BlobMeta,
  blobFileName,
  decodeMeta,
  encodeMeta,
  META_SUFFIX,
  type MetaRecord,
  publicMeta,
  TMP_SUFFIX,
} from './meta.js';
import { casPathTransform, type PathTransform } from './path-transform.js';
import { type ByteSource, pump } from './pump.js';
import { assertKey, assertNamespace, assertPathKey, isNamespace } from './validate.js';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CasStoreOptions {
  /** Folder holding `<namespace>/…`; created by `open()`. */
  root: string;
  /** Key → folders + file name; default `casPathTransform(key)` (SHA-256, `ab/cd/<hash>`). */
  pathTransform?: PathTransform;
  logger?: Logger;
}

export interface WriteOptions {
  /** Kept in the metadata as JSON. */
  extra?: Record<string, unknown>;
  /** SHA-256 hex the stored bytes must have; on mismatch nothing is kept (IntegrityError). */
  expectedDigest?: string;
  signal?: AbortSignal;
}

export interface WriteResult {
  size: number;
  digest: string;
}

export interface ReadResult {
  stream: Readable;
  meta: BlobMeta;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface OpenReport {
  /** Temp files, orphan blobs and broken meta files removed. */
  removed: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const READ_CHUNK = 256 * 1024;
const LIST_WINDOW = 32;
const DIGEST = /^[0-9a-f]{64}$/;

interface Location {
  nsDir: string;
  dir: string;
  filename: string;
  metaPath: string;
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as { code?: unknown })?.code as string);
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}

export class CasStore {
  readonly root: string;
  readonly #transform: PathTransform;
  readonly #log: Logger;
  readonly #locks = new KeyLock();

  constructor(options: CasStoreOptions) {
    if (!options || typeof options.root !== 'string' || options.root === '') {
      throw new InvalidArgumentError('root must be a non-empty path');
    }
    this.root = options.root;
    this.#transform = options.pathTransform ?? ((key) => casPathTransform(key));
    this.#log = options.logger ?? silent;
  }

  /** Creates the root and removes whatever a crash left: temp files, orphan blobs, broken metadata. */
  async open(): Promise<OpenReport> {
    await mkdir(this.root, { recursive: true });
    let removed = 0;
    for (const ns of await this.namespaces()) {
      removed += await this.#sweep(join(this.root, ns), true);
    }
    if (removed > 0) this.#log.warn({ removed, root: this.root }, 'removed files left by a crash');
    return { removed };
  }

  async write(
    ns: string,
    key: string,
    source: ByteSource,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const { extra, expectedDigest, signal } = options;
    const loc = this.#locate(ns, key);
    if (
      extra !== undefined &&
      (extra === null || typeof extra !== 'object' || Array.isArray(extra))
    ) {
      throw new InvalidArgumentError('extra must be a plain object');
    }
    let extraJson: string | undefined;
    try {
      extraJson = extra === undefined ? undefined : JSON.stringify(extra);
    } catch (cause) {
      throw new InvalidArgumentError('extra must be JSON-serialisable', { cause });
    }
    if (
      expectedDigest !== undefined &&
      (typeof expectedDigest !== 'string' || !DIGEST.test(expectedDigest.toLowerCase()))
    ) {
      throw new InvalidArgumentError('expectedDigest must be 64 hex characters');
    }
    checkSignal(signal);

    const writeId = randomBytes(8).toString('hex');
    const blobName = blobFileName(loc.filename, writeId);
    const blobPath = join(loc.dir, blobName);
    const blobTmp = `${blobPath}${TMP_SUFFIX}`;
    const metaTmp = join(loc.dir, `${loc.filename}.${writeId}.meta${TMP_SUFFIX}`);
    let fh: FileHandle | undefined;
    let committed = false;
    try {
      fh = await this.#createIn(loc, blobTmp);
      const { size, digest } = await pump(source, fh, signal);
      if (expectedDigest !== undefined && expectedDigest.toLowerCase() !== digest) {
        throw new IntegrityError(
          `digest mismatch: expected ${expectedDigest}, stored bytes ${digest}`,
        );
      }
      checkSignal(signal);
      const record: MetaRecord = {
        v: 1,
        namespace: ns,
        key,
        size,
        digest,
        createdAt: Date.now(),
        blob: blobName,
      };
      if (extraJson !== undefined) record.extra = JSON.parse(extraJson) as Record<string, unknown>;
      const metaBytes = Buffer.from(encodeMeta(record), 'utf8');
      await Promise.all([fh.sync(), this.#writeFileSynced(metaTmp, metaBytes)]);
      await fh.close();
      fh = undefined;
      checkSignal(signal);

      await this.#locks.run(`${ns}/${loc.filename}`, async () => {
        const old = await this.#readRecord(loc);
        await rename(blobTmp, blobPath);
        await rename(metaTmp, loc.metaPath);
        committed = true;
        await fsyncDir(loc.dir);
        if (old && old.blob !== blobName) await unlinkQuiet(join(loc.dir, old.blob));
      });
      return { size, digest };
    } catch (err) {
      if (fh) await fh.close().catch(() => {});
      if (!committed) {
        await Promise.all([unlinkQuiet(blobTmp), unlinkQuiet(metaTmp), unlinkQuiet(blobPath)]);
        await this.#pruneEmpty(loc);
      }
      if (isCode(err, 'ENOSPC', 'EDQUOT')) throw new NoSpaceError(undefined, { cause: err });
      throw err;
    }
  }

  async read(ns: string, key: string, options: SignalOptions = {}): Promise<ReadResult> {
    const { signal } = options;
    const loc = this.#locate(ns, key);
    checkSignal(signal);
    // A concurrent overwrite may unlink the blob between reading the meta and opening it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.#readRecord(loc);
      if (!record || record.key !== key) break;
      let fh: FileHandle;
      try {
        fh = await open(join(loc.dir, record.blob), 'r');
      } catch (err) {
        if (isCode(err, 'ENOENT')) continue;
        throw err;
      }
      const st = await fh.stat();
      if (st.size !== record.size) {
        await fh.close();
        throw new IntegrityError(`blob size ${st.size} differs from recorded ${record.size}`);
      }
      const stream = fh.createReadStream({ highWaterMark: READ_CHUNK });
      if (signal) {
        const onAbort = () => stream.destroy(new AbortError(undefined, { cause: signal.reason }));
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          stream.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      return { stream, meta: publicMeta(record) };
    }
    throw new NotFoundError();
  }

  async stat(ns: string, key: string): Promise<BlobMeta> {
    const loc = this.#locate(ns, key);
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.#readRecord(loc);
      if (!record || record.key !== key) break;
      try {
        await open(join(loc.dir, record.blob), 'r').then((fh) => fh.close());
      } catch (err) {
        if (isCode(err, 'ENOENT')) continue;
        throw err;
      }
      return publicMeta(record);
    }
    throw new NotFoundError();
  }

  async has(ns: string, key: string): Promise<boolean> {
    try {
      await this.stat(ns, key);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Removes the blob and its metadata, then empty folders up to the namespace; false if absent. */
  async delete(ns: string, key: string): Promise<boolean> {
    const loc = this.#locate(ns, key);
    const found = await this.#locks.run(`${ns}/${loc.filename}`, async () => {
      const record = await this.#readRecord(loc);
      if (!record || record.key !== key) return false;
      // Meta first: once it is gone the pair is absent, whatever happens next.
      await unlink(loc.metaPath);
      await unlinkQuiet(join(loc.dir, record.blob));
      await fsyncDir(loc.dir);
      return true;
    });
    if (found) await this.#pruneEmpty(loc);
    return found;
  }

  /** Metadata of every blob in the namespace, in directory order, read a window at a time. */
  async *list(ns: string): AsyncGenerator<BlobMeta> {
    assertNamespace(ns);
    const window: Promise<BlobMeta | undefined>[] = [];
    for await (const [dir, filename] of this.#metaFiles(join(this.root, ns))) {
      window.push(this.#readRecordAt(dir, filename).then((r) => (r ? publicMeta(r) : undefined)));
      if (window.length >= LIST_WINDOW) {
        const meta = await window.shift();
        if (meta) yield meta;
      }
    }
    while (window.length > 0) {
      const meta = await window.shift();
      if (meta) yield meta;
    }
  }

  async namespaces(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw err;
    }
    return entries
      .filter((e) => e.isDirectory() && isNamespace(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** Removes every namespace (and so every blob) under the root; other files are left alone. */
  async clear(): Promise<void> {
    for (const ns of await this.namespaces()) {
      await rm(join(this.root, ns), { recursive: true, force: true });
    }
  }

  #locate(ns: string, key: string): Location {
    assertNamespace(ns);
    assertKey(key);
    const pk = this.#transform(key);
    assertPathKey(pk);
    const nsDir = join(this.root, ns);
    const dir = pk.pathName === '' ? nsDir : join(nsDir, ...pk.pathName.split('/'));
    return {
      nsDir,
      dir,
      filename: pk.filename,
      metaPath: join(dir, `${pk.filename}${META_SUFFIX}`),
    };
  }

  async #readRecord(loc: Location): Promise<MetaRecord | undefined> {
    return this.#readRecordAt(loc.dir, loc.filename);
  }

  async #readRecordAt(dir: string, filename: string): Promise<MetaRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(dir, `${filename}${META_SUFFIX}`), 'utf8');
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
    const record = decodeMeta(text, filename);
    if (!record) this.#log.warn({ dir, filename }, 'ignoring malformed metadata');
    return record;
  }

  /** Creates a new file in the blob's folder; makes (and syncs) folders a concurrent delete pruned. */
  async #createIn(loc: Location, path: string): Promise<FileHandle> {
    for (let attempt = 0; ; attempt++) {
      const first = await mkdir(loc.dir, { recursive: true });
      if (first !== undefined) await this.#syncNewDirs(loc.nsDir, first, loc.dir);
      try {
        return await open(path, 'wx');
      } catch (err) {
        if (isCode(err, 'ENOENT') && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** New folders are only durable once their parents are synced. */
  async #syncNewDirs(nsDir: string, first: string, leafDir: string): Promise<void> {
    const parents: string[] = [];
    for (let d = leafDir; ; d = dirname(d)) {
      parents.push(dirname(d));
      if (d === first || d === nsDir || d === this.root || dirname(d) === d) break;
    }
    await Promise.all(parents.map((p) => fsyncDir(p).catch(() => {})));
  }

  async #writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
    const fh = await open(path, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Removes empty folders from the blob's folder up to (not including) the namespace. */
  async #pruneEmpty(loc: Location): Promise<void> {
    for (let d = loc.dir; d !== loc.nsDir && d.startsWith(loc.nsDir); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  async *#metaFiles(dir: string): AsyncGenerator<[string, string]> {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir, { bufferSize: 256 });
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    const subdirs: string[] = [];
    for await (const e of handle) {
      if (e.isDirectory()) subdirs.push(e.name);
      else if (e.isFile() && e.name.endsWith(META_SUFFIX)) {
        yield [dir, e.name.slice(0, -META_SUFFIX.length)];
      }
    }
    subdirs.sort();
    for (const sub of subdirs) yield* this.#metaFiles(join(dir, sub));
  }

  /** Cleans one folder tree after a crash; returns how many files were removed. */
  async #sweep(dir: string, isNsDir: boolean): Promise<number> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return 0;
      throw err;
    }
    let removed = 0;
    const live = new Set<string>();
    const blobs: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        removed += await this.#sweep(join(dir, e.name), false);
        continue;
      }
      if (!e.isFile()) continue;
      if (e.name.endsWith(TMP_SUFFIX)) {
        await unlinkQuiet(join(dir, e.name));
        removed++;
      } else if (e.name.endsWith(BLOB_SUFFIX)) {
        blobs.push(e.name);
      } else if (e.name.endsWith(META_SUFFIX)) {
        const filename = e.name.slice(0, -META_SUFFIX.length);
        const record = await this.#readRecordAt(dir, filename);
        const present = record && entries.some((b) => b.name === record.blob && b.isFile());
        if (record && present) live.add(record.blob);
        else {
          await unlinkQuiet(join(dir, e.name));
          removed++;
        }
      }
    }
    for (const b of blobs) {
      if (!live.has(b)) {
        await unlinkQuiet(join(dir, b));
        removed++;
      }
    }
    if (!isNsDir) await rmdir(dir).catch(() => {});
    return removed;
  }
}
