// S3 multipart parts kept on the gateway node's disk, sealed, until Complete streams them into one
// cluster store: parts are never replicated, so a multipart upload costs one seal and one R-way put.

import { hkdfSync, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  openBytes,
  open as openSealed,
  readRange,
  seal,
  sealBytes,
  sealedSize,
} from '@peerstash/crypto';
import {
  AbortedError,
  type Attributes,
  IntegrityError,
  InvalidRangeError,
  type ListOptions,
  type ListPage,
  NoSpaceError,
  NotFoundError,
  type ObjectInfo,
  type ReadOptions,
  type ReadResult,
  type WriteOptions,
  type WriteResult,
} from '@peerstash/gateway';
import { compareKeys, pageOf } from './key-page.js';

/** The gateway's part keys (packages/gateway/src/s3/layout.ts: `.s3/parts/<uploadId>/<n>`). */
export const PARTS_PREFIX = '.s3/parts/';
/** Where the spool lives in a node's data dir. */
export const SPOOL_DIR = join('gateway', 'parts');
/** Parts untouched this long are dropped when the spool opens (S3 lifecycle rules default to 7). */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600_000;

const INFO = 'peerstash/v1/gateway-part-spool';

interface Entry extends ObjectInfo {
  /** The sealed data file, in the upload's folder. */
  file: string;
}

export interface PartSpoolOptions {
  /** The folder (created on open). */
  dir: string;
  /** The vault key; the spool seals under a key derived from it, never under it directly. */
  vaultKey: Uint8Array;
  maxAgeMs?: number;
  now?: () => number;
}

/** Keys map to file names that only use [0-9a-z.]: the upload's folder, then the part's name. */
function namesOf(key: string): { folder: string; name: string } {
  const rest = key.slice(PARTS_PREFIX.length);
  const at = rest.indexOf('/');
  const upload = at < 0 ? rest : rest.slice(0, at);
  const part = at < 0 ? '' : rest.slice(at + 1);
  return {
    folder: `u${Buffer.from(upload, 'utf8').toString('hex')}`,
    name: `p${Buffer.from(part, 'utf8').toString('hex')}`,
  };
}

async function syncedWrite(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The stream once its file is open (an open failure rejects instead of erroring later). */
function opened(ws: WriteStream): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    ws.once('ready', () => {
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

/** The opened plaintext of a sealed data file (an integrity failure errors the stream). */
function openedStream(key: Uint8Array, fh: FileHandle): Readable {
  const out = openSealed(key);
  const src = fh.createReadStream();
  src.on('error', (err) => out.destroy(err));
  out.on('close', () => src.destroy());
  return src.pipe(out);
}

export class PartSpool {
  readonly #dir: string;
  readonly #key: Buffer;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #index = new Map<string, Entry>();
  #opened: Promise<void> | undefined;
  /** Commits (sidecar rename + index update) one at a time, so the index matches the disk. */
  #commits: Promise<unknown> = Promise.resolve();

  constructor(options: PartSpoolOptions) {
    this.#dir = options.dir;
    this.#key = Buffer.from(hkdfSync('sha256', options.vaultKey, Buffer.alloc(0), INFO, 32));
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  static holds(key: string): boolean {
    return key.startsWith(PARTS_PREFIX);
  }

  /** Loads the index; drops temp files, orphaned data files and parts older than maxAgeMs. */
  open(): Promise<void> {
    this.#opened ??= this.#load();
    return this.#opened;
  }

  async #load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const cutoff = this.#now() - this.#maxAgeMs;
    for (const folder of await readdir(this.#dir)) {
      const path = join(this.#dir, folder);
      const names = await readdir(path).catch(() => [] as string[]);
      const live = new Set<string>();
      for (const name of names.filter((n) => n.endsWith('.meta'))) {
        const meta = join(path, name);
        if ((await stat(meta)).mtimeMs < cutoff) continue;
        try {
          const e = JSON.parse(
            openBytes(this.#key, await readFile(meta)).toString('utf8'),
          ) as Entry;
          this.#index.set(e.key, e);
          live.add(name);
          live.add(e.file);
        } catch {
          // not sealed under this vault's key: never listed, left to the age sweep
          live.add(name);
        }
      }
      for (const name of names) if (!live.has(name)) await rm(join(path, name), { force: true });
      if (live.size === 0) await rm(path, { recursive: true, force: true });
    }
  }

  async list(options: ListOptions): Promise<ListPage> {
    await this.open();
    const sorted = [...this.#index.keys()].filter((k) => k.startsWith(options.prefix));
    sorted.sort(compareKeys);
    return pageOf(sorted, (k) => publicInfo(this.#index.get(k)!), options);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    await this.open();
    const e = this.#index.get(key);
    return e && publicInfo(e);
  }

  async write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    await this.open();
    options.signal?.throwIfAborted();
    const { folder, name } = namesOf(key);
    const dir = join(this.#dir, folder);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const version = randomBytes(16).toString('hex');
    const file = `${name}.${version}.data`;
    const temp = join(dir, `${file}.tmp`);
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      // flush: fsync before close, so the rename below never publishes unwritten bytes
      const sink = () => createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true });
      // a delete of the upload's last part may drop the folder between the mkdir and the open
      const out = await opened(sink()).catch(async () => {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        return opened(sink());
      });
      await pipeline(
        Readable.from(source, { objectMode: false }),
        count,
        seal(this.#key),
        out,
        ...(options.signal ? [{ signal: options.signal }] : []),
      );
      const attributes: Attributes = options.attributes ? await options.attributes() : {};
      await rename(temp, join(dir, file));
      const entry: Entry = { key, size, modifiedAt: this.#now(), version, attributes, file };
      await this.#commit(dir, name, entry);
      return { size, version, modifiedAt: entry.modifiedAt };
    } catch (err) {
      await rm(temp, { force: true });
      await rm(join(dir, file), { force: true });
      if (options.signal?.aborted) throw new AbortedError(undefined, { cause: err });
      if ((err as { code?: unknown }).code === 'ENOSPC') {
        throw new NoSpaceError('no space left for the part spool', { cause: err });
      }
      throw err;
    }
  }

  async #commit(dir: string, name: string, entry: Entry): Promise<void> {
    const run = async () => {
      const meta = join(dir, `${name}.meta`);
      const temp = `${meta}.${randomBytes(6).toString('hex')}.tmp`;
      await syncedWrite(temp, sealBytes(this.#key, Buffer.from(JSON.stringify(entry), 'utf8')));
      await rename(temp, meta);
      await syncDir(dir);
      const old = this.#index.get(entry.key);
      this.#index.set(entry.key, entry);
      if (old) await rm(join(dir, old.file), { force: true });
    };
    const done = this.#commits.then(run);
    this.#commits = done.catch(() => {});
    await done;
  }

  async read(key: string, options: ReadOptions = {}): Promise<ReadResult> {
    await this.open();
    options.signal?.throwIfAborted();
    const e = this.#index.get(key);
    if (!e) throw new NotFoundError(`no part ${key}`);
    const { range } = options;
    if (range && (range.start >= e.size || range.start > range.end)) throw new InvalidRangeError();
    const { folder } = namesOf(key);
    // opened now: a later overwrite or delete unlinks the file, an open descriptor still reads it
    const fh = await open(join(this.#dir, folder, e.file), 'r').catch((err: unknown) => {
      throw new NotFoundError(`part ${key} is gone`, { cause: err });
    });
    const onDisk = (await fh.stat()).size;
    if (onDisk !== sealedSize(e.size)) {
      await fh.close();
      throw new IntegrityError(`part ${key} is ${onDisk} sealed bytes, not ${sealedSize(e.size)}`);
    }
    let stream: Readable;
    if (range) {
      stream = readRange(
        this.#key,
        async (offset, length) => {
          const buf = Buffer.alloc(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        },
        {
          start: range.start,
          end: Math.min(range.end, e.size - 1),
          plainSize: e.size,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      stream.on('close', () => void fh.close().catch(() => {}));
    } else {
      stream = openedStream(this.#key, fh);
    }
    return { stream, info: publicInfo(e) };
  }

  async delete(key: string): Promise<boolean> {
    await this.open();
    const run = async () => {
      const e = this.#index.get(key);
      if (!e) return false;
      const { folder, name } = namesOf(key);
      const dir = join(this.#dir, folder);
      this.#index.delete(key);
      await rm(join(dir, `${name}.meta`), { force: true });
      await rm(join(dir, e.file), { force: true });
      if ((await readdir(dir).catch(() => ['?'])).length === 0)
        await rm(dir, { recursive: true, force: true });
      return true;
    };
    const done = this.#commits.then(run);
    this.#commits = done.catch(() => {});
    return done;
  }

  /** Every file the spool holds (tests: what an abort or a failed write left). */
  async files(): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(this.#dir, { withFileTypes: true, recursive: true }).catch(
      () => [],
    )) {
      if (e.isFile()) out.push(join(e.parentPath, e.name));
    }
    return out.sort();
  }
}

function publicInfo(e: Entry): ObjectInfo {
  return {
    key: e.key,
    size: e.size,
    modifiedAt: e.modifiedAt,
    version: e.version,
    attributes: { ...e.attributes },
  };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
