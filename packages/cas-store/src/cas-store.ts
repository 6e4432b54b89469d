// The content-addressed blob store: atomic, crash-safe writes of (namespace, key) → bytes + metadata.
// The meta file is the commit record; blob files are immutable once named and only reachable through it.

import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { DirSync } from './dir-sync.js';
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
import { type ByteSource, holdErrors, pump } from './pump.js';
import { type Span, spansReader } from './read-spans.js';
import { assertKey, assertNamespace, assertPathKey, isNamespace } from './validate.js';
import { type DirEntries, walkDirs } from './walk.js';

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

export interface DeleteOptions {
  /** Delete only this version of the key (as `stat` or `read` described it). */
  ifMatch?: { digest: string; createdAt: number };
}

export interface WriteOptions {
  /** Kept in the metadata as JSON. */
  extra?: Record<string, unknown>;
  /**
   * SHA-256 hex the stored bytes must have; on mismatch nothing is kept (IntegrityError). A
   * function is asked once the source has ended (while the bytes are being synced), for a digest
   * known only after the stream; if it throws, the write fails with that error and keeps nothing.
   */
  expectedDigest?: string | (() => string | Promise<string>);
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

export interface ReadOptions extends SignalOptions {
  /**
   * Only these byte spans of the blob, in order (or a function choosing them from the blob's
   * metadata, read under the same version); InvalidArgumentError when one lies outside it.
   */
  spans?: readonly Span[] | ((meta: BlobMeta) => readonly Span[]);
}

export interface OpenReport {
  /** Temp files, orphan blobs and broken meta files removed. */
  removed: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const READ_CHUNK = 1024 * 1024;
const LIST_WINDOW = 32;
const DIGEST = /^[0-9a-f]{64}$/;
// `.<16 hex writeId>.blob` after the hash in a blob file name.
const BLOB_ID_AND_SUFFIX = 1 + 16 + BLOB_SUFFIX.length;

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

function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value.toLowerCase());
}

function checkDigest(expected: string, digest: string): void {
  if (expected.toLowerCase() !== digest) {
    throw new IntegrityError(`digest mismatch: expected ${expected}, stored bytes ${digest}`);
  }
}

/** Asks a late `expectedDigest` for its value; abort does not wait for it. */
async function lateDigest(
  expected: () => string | Promise<string>,
  signal: AbortSignal | undefined,
): Promise<string> {
  checkSignal(signal);
  let onAbort: (() => void) | undefined;
  try {
    const value = await new Promise<string>((resolve, reject) => {
      if (signal) {
        onAbort = () => reject(new AbortError(undefined, { cause: signal.reason }));
        signal.addEventListener('abort', onAbort, { once: true });
      }
      Promise.resolve().then(expected).then(resolve, reject);
    });
    if (!isDigest(value)) {
      throw new InvalidArgumentError('expectedDigest must give 64 hex characters');
    }
    return value;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** readFile without its fstat: one read covers almost every meta file (list reads thousands). */
async function readSmallFile(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const parts: Buffer[] = [];
    for (;;) {
      const buf = Buffer.allocUnsafe(16 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead > 0) parts.push(buf.subarray(0, bytesRead));
      if (bytesRead < buf.length) break;
    }
    return Buffer.concat(parts).toString('utf8');
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
  /** Folder fsyncs, shared by the writes and deletes that need the same folder synced at once. */
  readonly #dirSync = new DirSync();
  /** Writes, deletes and clears in progress: what `idle()` waits for. */
  readonly #busy = new Set<Promise<unknown>>();

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
      removed += await this.#sweepNamespace(join(this.root, ns));
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
    // The copy starts reading only after the temp file is open; a Readable failing before then
    // (a missing file, a dead socket) would otherwise emit an 'error' nobody listens to, which
    // crashes the process. The copy still gets that error from the stream's iterator.
    const release = holdErrors(source);
    try {
      return await this.#track(this.#write(ns, key, source, options));
    } finally {
      release();
    }
  }

  /**
   * Resolves once every write, delete and clear in progress has finished or failed, including
   * its clean-up of temp files and empty folders. Call it before removing the root or exiting;
   * end or abort the sources of writes first, or it waits for them.
   */
  async idle(): Promise<void> {
    while (this.#busy.size > 0) await Promise.allSettled([...this.#busy]);
  }

  #track<T>(op: Promise<T>): Promise<T> {
    this.#busy.add(op);
    const done = () => this.#busy.delete(op);
    op.then(done, done);
    return op;
  }

  async #write(
    ns: string,
    key: string,
    source: ByteSource,
    options: WriteOptions,
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
      typeof expectedDigest !== 'function' &&
      !isDigest(expectedDigest)
    ) {
      throw new InvalidArgumentError('expectedDigest must be 64 hex characters or a function');
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
      let newDirs: Promise<void>;
      ({ fh, newDirs } = await this.#createIn(loc, blobTmp));
      const { size, digest } = await pump(source, fh, signal);
      if (typeof expectedDigest === 'string') checkDigest(expectedDigest, digest);
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
      const syncing = Promise.all([fh.sync(), this.#writeFileSynced(metaTmp, metaBytes), newDirs]);
      if (typeof expectedDigest === 'function') {
        // Waited for beside the fsyncs, which must settle before the file is closed or unlinked.
        const [synced, late] = await Promise.allSettled([
          syncing,
          lateDigest(expectedDigest, signal),
        ]);
        if (synced.status === 'rejected') throw synced.reason;
        if (late.status === 'rejected') throw late.reason;
        checkDigest(late.value, digest);
      } else {
        await syncing;
      }
      await fh.close();
      fh = undefined;
      checkSignal(signal);

      await this.#locks.run(`${ns}/${loc.filename}`, async () => {
        const old = await this.#readRecord(loc);
        await rename(blobTmp, blobPath);
        await rename(metaTmp, loc.metaPath);
        committed = true;
        await this.#dirSync.sync(loc.dir);
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

  async read(ns: string, key: string, options: ReadOptions = {}): Promise<ReadResult> {
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
      const st = await fh.stat().catch(async (err: unknown) => {
        await fh.close();
        throw err;
      });
      if (st.size !== record.size) {
        await fh.close();
        throw new IntegrityError(`blob size ${st.size} differs from recorded ${record.size}`);
      }
      const meta = publicMeta(record);
      const spans = await spansReader(fh, meta, options.spans, READ_CHUNK);
      // `end` spares small blobs a big buffer and the extra read that finds EOF.
      const stream =
        spans ??
        (record.size === 0
          ? new Readable({
              read() {
                this.push(null);
              },
            })
          : fh.createReadStream({
              highWaterMark: Math.min(READ_CHUNK, record.size),
              start: 0,
              end: record.size - 1,
            }));
      if (record.size === 0 && !spans) await fh.close();
      if (signal) {
        const onAbort = () => stream.destroy(new AbortError(undefined, { cause: signal.reason }));
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          stream.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      return { stream, meta };
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

  /**
   * Removes the blob and its metadata, then empty folders up to the namespace; false if absent.
   * With `ifMatch`, only the version with that digest and commit time goes (checked under the
   * key's lock): a newer write of the key is kept, and the call returns false.
   */
  async delete(ns: string, key: string, options: DeleteOptions = {}): Promise<boolean> {
    return this.#track(this.#delete(ns, key, options));
  }

  async #delete(ns: string, key: string, { ifMatch }: DeleteOptions): Promise<boolean> {
    const loc = this.#locate(ns, key);
    const found = await this.#locks.run(`${ns}/${loc.filename}`, async () => {
      const record = await this.#readRecord(loc);
      if (!record || record.key !== key) return false;
      if (ifMatch && (record.digest !== ifMatch.digest || record.createdAt !== ifMatch.createdAt)) {
        return false;
      }
      // Meta first: once it is gone the pair is absent, whatever happens next.
      await unlink(loc.metaPath);
      await unlinkQuiet(join(loc.dir, record.blob));
      await this.#dirSync.sync(loc.dir);
      return true;
    });
    if (found) await this.#pruneEmpty(loc);
    return found;
  }

  /** Metadata of every blob in the namespace, in no particular order, read a window at a time. */
  async *list(ns: string): AsyncGenerator<BlobMeta> {
    assertNamespace(ns);
    const window: Promise<BlobMeta | undefined>[] = [];
    for await (const { dir, entries } of walkDirs(join(this.root, ns))) {
      for (const e of entries) {
        if (!e.isFile() || !e.name.endsWith(META_SUFFIX)) continue;
        const filename = e.name.slice(0, -META_SUFFIX.length);
        const pending = this.#readRecordAt(dir, filename).then((r) =>
          r ? publicMeta(r) : undefined,
        );
        pending.catch(() => {}); // still rejects when awaited; quiet if the caller stops early
        window.push(pending);
        if (window.length >= LIST_WINDOW) {
          const meta = await window.shift();
          if (meta) yield meta;
        }
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
    await this.#track(
      (async () => {
        for (const ns of await this.namespaces()) {
          await rm(join(this.root, ns), { recursive: true, force: true });
        }
      })(),
    );
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
      text = await readSmallFile(join(dir, `${filename}${META_SUFFIX}`));
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
    const record = decodeMeta(text, filename);
    if (!record) this.#log.warn({ dir, filename }, 'ignoring malformed metadata');
    return record;
  }

  /**
   * Creates a new file in the blob's folder; makes folders (a concurrent delete may have pruned
   * them). `newDirs` settles once the parents of folders made here are synced: it runs beside the
   * data's writes and fsyncs, and the write awaits it before its commit.
   */
  async #createIn(
    loc: Location,
    path: string,
  ): Promise<{ fh: FileHandle; newDirs: Promise<void> }> {
    // A concurrent #pruneEmpty (a failed write's or a delete's clean-up in the same folder) may
    // remove a folder between mkdir's steps or before open: ENOENT from either is a retry, and so
    // is ENOTDIR (recursive mkdir stats a folder it found existing; pruned meanwhile, it reports
    // that folder as not a directory).
    for (let attempt = 0; ; attempt++) {
      try {
        const first = await mkdir(loc.dir, { recursive: true });
        const newDirs =
          first === undefined ? Promise.resolve() : this.#syncNewDirs(loc.nsDir, first, loc.dir);
        return { fh: await open(path, 'wx'), newDirs };
      } catch (err) {
        if ((isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) && attempt < 5) continue;
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
    await Promise.all(parents.map((p) => this.#dirSync.sync(p).catch(() => {})));
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

  /** Cleans one namespace after a crash, a few folders at a time; returns how many files were removed. */
  async #sweepNamespace(nsDir: string): Promise<number> {
    const dirs = walkDirs(nsDir);
    let removed = 0;
    const worker = async () => {
      for (;;) {
        const next = await dirs.next();
        if (next.done) return;
        const n = await this.#sweepDir(next.value, nsDir); // not `removed += await`: workers interleave
        removed += n;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return removed;
  }

  async #sweepDir({ dir, entries }: DirEntries, nsDir: string): Promise<number> {
    let removed = 0;
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    const live = new Set<string>();
    const drop = async (name: string) => {
      await unlinkQuiet(join(dir, name));
      names.delete(name);
      removed++;
    };
    const blobsOf = new Map<string, string[]>();
    for (const name of [...names]) {
      if (name.endsWith(TMP_SUFFIX)) await drop(name);
      else if (name.endsWith(BLOB_SUFFIX)) {
        const stem = name.slice(0, -BLOB_ID_AND_SUFFIX);
        blobsOf.set(stem, [...(blobsOf.get(stem) ?? []), name]);
      }
    }
    for (const name of [...names]) {
      if (!name.endsWith(META_SUFFIX)) continue;
      const stem = name.slice(0, -META_SUFFIX.length);
      const candidates = blobsOf.get(stem) ?? [];
      if (candidates.length === 1) {
        // The usual case: commit order guarantees a lone blob beside a meta is the one it names,
        // so open() need not read every meta file of a large store.
        live.add(candidates[0]!);
        continue;
      }
      const record = candidates.length > 0 ? await this.#readRecordAt(dir, stem) : undefined;
      if (record && names.has(record.blob)) live.add(record.blob);
      else await drop(name);
    }
    for (const name of [...names]) {
      if (name.endsWith(BLOB_SUFFIX) && !live.has(name)) await drop(name);
    }
    const hasSubdirs = entries.some((e) => e.isDirectory());
    if (names.size === 0 && !hasSubdirs && dir !== nsDir) {
      for (let d = dir; d !== nsDir && d.startsWith(nsDir); d = dirname(d)) {
        try {
          await rmdir(d);
        } catch {
          break;
        }
      }
    }
    return removed;
  }
}
