// Access keys for the S3 (and restic) front ends, kept in one JSON file with mode 0600: add with
// an optional bucket restriction and read-only flag, list, revoke; a running server sees changes.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, KeyStoreLockedError, UnknownKeyError } from './errors.js';

/** One access key as the servers use it. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Only this bucket (S3) or repository (restic) when set. */
  bucket?: string;
  readOnly: boolean;
  /** ms since the epoch. */
  createdAt: number;
  description?: string;
}

/** What `list()` shows: everything but the secret. */
export type AccessKeySummary = Omit<AccessKey, 'secretAccessKey'>;

export interface AddKeyOptions {
  bucket?: string;
  readOnly?: boolean;
  description?: string;
}

/** How the servers look credentials up; KeyStore implements it, tests may pass a fixed list. */
export interface CredentialsProvider {
  lookup(accessKeyId: string): Promise<AccessKey | undefined>;
}

interface KeyFile {
  version: 1;
  keys: AccessKey[];
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function newAccessKeyId(): string {
  const bytes = randomBytes(18);
  let id = 'PS';
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y');
}

/** Fixed credentials (tests, embedding): `staticCredentials([{ accessKeyId, secretAccessKey }])`. */
export function staticCredentials(
  keys: (Pick<AccessKey, 'accessKeyId' | 'secretAccessKey'> & Partial<AccessKey>)[],
): CredentialsProvider {
  const byId = new Map(
    keys.map((k) => [k.accessKeyId, { readOnly: false, createdAt: 0, ...k } as AccessKey]),
  );
  return { lookup: async (id) => byId.get(id) };
}

/**
 * The key file (e.g. `<dataDir>/s3-keys.json`). Reads are cached and re-read when the file's
 * mtime or size changes, so keys added or revoked by `peerstash s3 keys` apply to a running
 * node at once. Writers take a lock file beside it and replace the file atomically.
 */
export class KeyStore implements CredentialsProvider {
  readonly path: string;
  #cache?: { mtimeMs: number; size: number; ino: number; file: KeyFile };

  constructor(path: string) {
    this.path = path;
  }

  async add(options: AddKeyOptions = {}): Promise<AccessKey> {
    if (options.bucket !== undefined && !BUCKET_NAME.test(options.bucket)) {
      throw new InvalidArgumentError(`"${options.bucket}" is not a valid bucket name`);
    }
    const key: AccessKey = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: newSecret(),
      readOnly: options.readOnly ?? false,
      createdAt: Date.now(),
      ...(options.bucket !== undefined ? { bucket: options.bucket } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
    };
    await this.#update((file) => {
      file.keys.push(key);
    });
    return key;
  }

  async list(): Promise<AccessKeySummary[]> {
    const file = await this.#read();
    return file.keys.map(({ secretAccessKey: _s, ...rest }) => rest);
  }

  /** Removes the key; UnknownKeyError (ERR_NOT_FOUND) when there is none with this id. */
  async revoke(accessKeyId: string): Promise<void> {
    let found = false;
    await this.#update((file) => {
      const before = file.keys.length;
      file.keys = file.keys.filter((k) => k.accessKeyId !== accessKeyId);
      found = file.keys.length !== before;
    });
    if (!found) throw new UnknownKeyError(`no access key ${accessKeyId}`);
  }

  async lookup(accessKeyId: string): Promise<AccessKey | undefined> {
    const file = await this.#read();
    const want = Buffer.from(accessKeyId);
    // Constant-time over the ids so response timing does not reveal a valid id's prefix.
    let hit: AccessKey | undefined;
    for (const k of file.keys) {
      const have = Buffer.from(k.accessKeyId);
      if (have.length === want.length && timingSafeEqual(have, want)) hit = k;
    }
    return hit;
  }

  async #read(): Promise<KeyFile> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
      throw err;
    }
    const c = this.#cache;
    if (c && c.mtimeMs === st.mtimeMs && c.size === st.size && c.ino === st.ino) return c.file;
    const file = parseKeyFile(await readFile(this.path, 'utf8'), this.path);
    this.#cache = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, file };
    return file;
  }

  async #update(change: (file: KeyFile) => void): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const lock = `${this.path}.lock`;
    await acquire(lock);
    try {
      this.#cache = undefined;
      const file = structuredClone(await this.#read());
      change(file);
      const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(file, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(temp, 0o600);
      await rename(temp, this.path);
      this.#cache = undefined;
    } finally {
      await rm(lock, { force: true });
    }
  }
}

function parseKeyFile(text: string, path: string): KeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${path} is not valid JSON`, { cause: err });
  }
  const file = parsed as Partial<KeyFile>;
  if (file?.version !== 1 || !Array.isArray(file.keys)) {
    throw new InvalidArgumentError(`${path} is not a peerstash key file (version 1)`);
  }
  for (const k of file.keys) {
    if (typeof k?.accessKeyId !== 'string' || typeof k.secretAccessKey !== 'string') {
      throw new InvalidArgumentError(`${path} holds a malformed key`);
    }
  }
  return file as KeyFile;
}

/** An O_EXCL lock file; one left by a crashed writer is taken over after 10 s. */
async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 10_000) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new KeyStoreLockedError(`${lock} is held by another writer`);
      await sleep(20);
    }
  }
}
