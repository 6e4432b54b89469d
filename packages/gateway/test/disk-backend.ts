// A Backend over a real directory: one data file per object version plus a JSON sidecar (the
// commit record), atomic by temp file + fsync + rename. For proving the protocol layer only.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  Attributes,
  Backend,
  ComposeOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ReadOptions,
  ReadResult,
  SignalOptions,
  WriteOptions,
  WriteResult,
} from '../src/index.js';
import { AbortedError, InvalidKeyError, InvalidRangeError, NotFoundError } from '../src/index.js';

interface Sidecar extends ObjectInfo {
  /** Data files, in order; more than one for a composed object. */
  files: { name: string; size: number }[];
}

const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface DiskBackendOptions {
  root: string;
  /** Offer `compose` (a manifest of the parts' files: no second pass over the bytes). */
  compose?: boolean;
}

export class DiskBackend implements Backend {
  readonly root: string;
  readonly compose?: Backend['compose'];
  #dir: string;
  #index = new Map<string, Sidecar>();
  /** Keys ascending by UTF-8 bytes. */
  #sorted: string[] = [];

  constructor({ root, compose = true }: DiskBackendOptions) {
    this.root = root;
    this.#dir = join(root, 'objects');
    if (compose) this.compose = (key, sources, options) => this.#compose(key, sources, options);
  }

  /** Creates the folder, drops temp files a crash left and loads the index from the sidecars. */
  async open(): Promise<this> {
    await mkdir(this.#dir, { recursive: true });
    const names = await readdir(this.#dir);
    const live = new Set<string>();
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const side = JSON.parse(await readFile(join(this.#dir, name), 'utf8')) as Sidecar;
      this.#index.set(side.key, side);
      for (const f of side.files) live.add(f.name);
    }
    for (const name of names) {
      if (!name.endsWith('.json') && !live.has(name))
        await rm(join(this.#dir, name), { force: true });
    }
    this.#sorted = [...this.#index.keys()].sort(compareKeys);
    return this;
  }

  async list({ prefix, delimiter, after, limit }: ListOptions): Promise<ListPage> {
    const entries: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let i = this.#lowerBound(
      after !== undefined && compareKeys(after, prefix) > 0 ? after : prefix,
    );
    let last: string | undefined;
    let count = 0;
    for (; i < this.#sorted.length; i++) {
      const key = this.#sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (after !== undefined && compareKeys(key, after) <= 0) continue;
      let rolled: string | undefined;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) rolled = key.slice(0, at + delimiter.length);
      }
      if (rolled !== undefined) {
        if (rolled === last || rolled === after) continue;
      }
      if (count === limit) return { entries, prefixes, next: last! };
      if (rolled !== undefined) {
        prefixes.push(rolled);
        last = rolled;
      } else {
        entries.push(publicInfo(this.#index.get(key)!));
        last = key;
      }
      count++;
    }
    return { entries, prefixes };
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const side = this.#index.get(key);
    return side && publicInfo(side);
  }

  async read(key: string, { range, signal }: ReadOptions = {}): Promise<ReadResult> {
    signal?.throwIfAborted();
    const side = this.#index.get(key);
    if (!side) throw new NotFoundError(`no object ${key}`);
    const start = range?.start ?? 0;
    const end = range ? Math.min(range.end, side.size - 1) : side.size - 1;
    if (range && (start >= side.size || start > range.end)) throw new InvalidRangeError();
    // Open every file now: a later overwrite unlinks them, and an open descriptor keeps reading.
    const handles = await Promise.all(side.files.map((f) => open(join(this.#dir, f.name), 'r')));
    const files = side.files;
    async function* bytes(): AsyncGenerator<Uint8Array> {
      let offset = 0;
      try {
        for (let n = 0; n < files.length; n++) {
          const f = files[n]!;
          const from = Math.max(start, offset);
          const to = Math.min(end, offset + f.size - 1);
          if (from <= to) {
            const s = createReadStream('', {
              fd: handles[n]!,
              start: from - offset,
              end: to - offset,
              autoClose: false,
              highWaterMark: 256 * 1024,
            });
            for await (const c of s) yield c as Buffer;
          }
          offset += f.size;
        }
      } finally {
        await Promise.all(handles.map((h) => h.close().catch(() => {})));
      }
    }
    return { stream: Readable.from(bytes(), { objectMode: false }), info: publicInfo(side) };
  }

  async write(
    key: string,
    source: AsyncIterable<Uint8Array>,
    { attributes, signal }: WriteOptions = {},
  ): Promise<WriteResult> {
    checkKey(key);
    const version = randomBytes(16).toString('hex');
    const name = `${hashOf(key)}.${version}.data`;
    const path = join(this.#dir, name);
    let size = 0;
    try {
      const counted = async function* () {
        for await (const c of source) {
          size += c.byteLength;
          yield c;
        }
      };
      // Opened before the pipeline: a stream that opens lazily can create the file after a source
      // failing at once has made the pipeline reject and the catch below has already removed it.
      const file = await open(path, 'wx');
      await pipeline(counted, file.createWriteStream({ highWaterMark: 1 << 20 }), { signal });
      const attrs = attributes ? await attributes() : {};
      await fsyncFile(path);
      return await this.#commit(key, { version, size, attributes: attrs, files: [{ name, size }] });
    } catch (err) {
      await rm(path, { force: true });
      if (signal?.aborted) throw new AbortedError('write aborted', { cause: err });
      throw err;
    }
  }

  async delete(key: string, _options?: SignalOptions): Promise<boolean> {
    const side = this.#index.get(key);
    if (!side) return false;
    await unlink(this.#sidecarPath(key));
    this.#forget(key);
    await this.#removeFiles(side.files);
    return true;
  }

  async #compose(
    key: string,
    sources: string[],
    options: ComposeOptions = {},
  ): Promise<WriteResult> {
    checkKey(key);
    const files: Sidecar['files'] = [];
    const parts: Sidecar[] = [];
    for (const s of sources) {
      const side = this.#index.get(s);
      if (!side) throw new NotFoundError(`no object ${s}`);
      parts.push(side);
      files.push(...side.files);
    }
    const size = files.reduce((n, f) => n + f.size, 0);
    const version = randomBytes(16).toString('hex');
    // The parts' files now belong to the new object: drop their records without their files.
    for (const s of sources) {
      await unlink(this.#sidecarPath(s));
      this.#forget(s);
    }
    return this.#commit(key, { version, size, attributes: options.attributes ?? {}, files });
  }

  async #commit(key: string, record: Omit<Sidecar, 'key' | 'modifiedAt'>): Promise<WriteResult> {
    const side: Sidecar = { key, modifiedAt: Date.now(), ...record };
    const final = this.#sidecarPath(key);
    const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(temp, 'wx');
    try {
      await fh.writeFile(JSON.stringify(side));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, final);
    // Read after the rename: the last rename to land is the record on disk and the one indexed.
    const old = this.#index.get(key);
    if (!old) this.#sorted.splice(this.#lowerBound(key), 0, key);
    this.#index.set(key, side);
    if (old) {
      const keep = new Set(side.files.map((f) => f.name));
      await this.#removeFiles(old.files.filter((f) => !keep.has(f.name)));
    }
    return { size: side.size, version: side.version, modifiedAt: side.modifiedAt };
  }

  /** Every file in the folder, for tests that check nothing was left behind. */
  async files(): Promise<string[]> {
    return (await readdir(this.#dir)).sort();
  }

  /** Bytes of object data on disk (data files only). */
  async bytesOnDisk(): Promise<number> {
    let n = 0;
    for (const name of await readdir(this.#dir)) {
      if (name.endsWith('.data')) n += (await stat(join(this.#dir, name))).size;
    }
    return n;
  }

  #sidecarPath(key: string): string {
    return join(this.#dir, `${hashOf(key)}.json`);
  }

  #forget(key: string): void {
    this.#index.delete(key);
    const i = this.#lowerBound(key);
    if (this.#sorted[i] === key) this.#sorted.splice(i, 1);
  }

  async #removeFiles(files: Sidecar['files']): Promise<void> {
    await Promise.all(files.map((f) => rm(join(this.#dir, f.name), { force: true })));
  }

  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.#sorted[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function publicInfo({ key, size, modifiedAt, version, attributes }: Sidecar): ObjectInfo {
  return { key, size, modifiedAt, version, attributes: { ...attributes } as Attributes };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkKey(key: string): void {
  if (key.length === 0 || LONE_SURROGATE.test(key)) {
    throw new InvalidKeyError('key must be a non-empty, well-formed string');
  }
}

function hashOf(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
