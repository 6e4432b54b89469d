// The node's data dir: node id, keys and API token persisted across restarts (secrets mode 0600),
// plus api.json so a CLI on the same machine can find the running node's HTTP address.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CODES, InvalidArgumentError, nodeErrorCode } from './errors.js';

export const NODE_FILE = 'node.json';
export const KEYS_FILE = 'keys.json';
export const TOKEN_FILE = 'api-token';
export const API_FILE = 'api.json';
export const BLOBS_DIR = 'blobs';
/** When the node was last known running (ms since the epoch), refreshed while it runs. */
export const ALIVE_FILE = 'last-alive';

export interface NodeFile {
  nodeId: string;
  listen?: string;
  /** Peers met before, dialled again on restart so a node rejoins even on a new port. */
  peers?: Array<{ id: string; addr: string }>;
}

export interface Keys {
  vaultKey?: Buffer;
  clusterSecret?: Buffer;
}

export interface ApiInfo {
  url: string;
  host: string;
  port: number;
  pid: number;
  nodeId: string;
}

const KEY_BYTES = 32;

/** Writes a small file atomically (temp + fsync + rename) with the given mode. */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  // the umask may have narrowed the mode, never widened it; chmod makes it exact
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (nodeErrorCode(err) === CODES.NOT_FOUND) return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(`${path} is not valid JSON`, { cause });
  }
}

/** The last time the node in `dataDir` was known running; undefined before its first start. */
export async function readLastAlive(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, ALIVE_FILE), 'utf8');
  } catch (err) {
    if (nodeErrorCode(err) === CODES.NOT_FOUND) return undefined;
    throw err;
  }
  const at = Number(text.trim());
  // a damaged file says nothing reliable: treat it as unknown rather than refuse to start
  return Number.isSafeInteger(at) && at > 0 ? at : undefined;
}

export async function writeLastAlive(dataDir: string, at = Date.now()): Promise<void> {
  await writeFileAtomic(join(dataDir, ALIVE_FILE), `${at}\n`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads node.json, creating it with a fresh random node id the first time. */
export async function loadOrCreateNode(dataDir: string): Promise<NodeFile> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, NODE_FILE);
  const json = await readJson(path);
  if (json === undefined) {
    const node: NodeFile = { nodeId: randomBytes(32).toString('hex') };
    await saveNode(dataDir, node);
    return node;
  }
  if (!isObject(json) || typeof json.nodeId !== 'string' || !/^[0-9a-f]{64}$/.test(json.nodeId)) {
    throw new InvalidArgumentError(`${path} has no valid nodeId`);
  }
  const node: NodeFile = { nodeId: json.nodeId };
  if (typeof json.listen === 'string') node.listen = json.listen;
  if (Array.isArray(json.peers)) {
    node.peers = json.peers.filter(
      (p): p is { id: string; addr: string } =>
        isObject(p) && typeof p.id === 'string' && typeof p.addr === 'string',
    );
  }
  return node;
}

export async function saveNode(dataDir: string, node: NodeFile): Promise<void> {
  await writeFileAtomic(join(dataDir, NODE_FILE), `${JSON.stringify(node, null, 2)}\n`);
}

function decodeSecret(value: unknown, name: string, path: string): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${path}: ${name} must be base64`);
  const buf = Buffer.from(value, 'base64');
  if (buf.length !== KEY_BYTES) {
    throw new InvalidArgumentError(`${path}: ${name} must be ${KEY_BYTES} bytes`);
  }
  return buf;
}

/**
 * Parses the text of a key file (keys.json format) read from `source` (named in errors): the
 * keys it holds, or InvalidArgumentError (ERR_INVALID_ARGUMENT) for anything but a key file.
 */
export function parseKeyFile(text: string, source: string): Keys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(`${source} is not valid JSON`, { cause });
  }
  return keysOf(json, source);
}

function keysOf(json: unknown, path: string): Keys {
  if (!isObject(json)) throw new InvalidArgumentError(`${path} is not a key file`);
  const keys: Keys = {};
  const vaultKey = decodeSecret(json.vaultKey, 'vaultKey', path);
  const clusterSecret = decodeSecret(json.clusterSecret, 'clusterSecret', path);
  if (vaultKey) keys.vaultKey = vaultKey;
  if (clusterSecret) keys.clusterSecret = clusterSecret;
  return keys;
}

/** Reads a key file (keys.json format); a missing file holds no keys. */
export async function readKeyFile(path: string): Promise<Keys> {
  const json = await readJson(path);
  if (json === undefined) return {};
  return keysOf(json, path);
}

/** Writes a key file with mode 0600: `{ version, vaultKey?, clusterSecret? }`, keys base64. */
export async function writeKeyFile(path: string, keys: Keys): Promise<void> {
  const json: Record<string, unknown> = { version: 1 };
  if (keys.vaultKey) json.vaultKey = Buffer.from(keys.vaultKey).toString('base64');
  if (keys.clusterSecret) json.clusterSecret = Buffer.from(keys.clusterSecret).toString('base64');
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`, 0o600);
}

function checkSecret(value: Uint8Array | undefined, name: string): Buffer | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array) || value.length !== KEY_BYTES) {
    throw new InvalidArgumentError(`${name} must be ${KEY_BYTES} bytes`);
  }
  return Buffer.from(value);
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Merges the keys given as options with those kept in keys.json: a given key is saved the first
 * time, a missing one is loaded, and a given key that differs from the saved one is refused
 * (mixing two vaults in one data dir would make its files unreadable).
 */
export async function resolveKeys(
  dataDir: string,
  given: { vaultKey?: Uint8Array; clusterSecret?: Uint8Array },
): Promise<Keys> {
  const path = join(dataDir, KEYS_FILE);
  const saved = await readKeyFile(path);
  const vaultKey = checkSecret(given.vaultKey, 'vaultKey');
  const clusterSecret = checkSecret(given.clusterSecret, 'clusterSecret');
  if (vaultKey && saved.vaultKey && !sameKey(vaultKey, saved.vaultKey)) {
    throw new InvalidArgumentError(`vaultKey differs from the one kept in ${path}`);
  }
  if (clusterSecret && saved.clusterSecret && !sameKey(clusterSecret, saved.clusterSecret)) {
    throw new InvalidArgumentError(`clusterSecret differs from the one kept in ${path}`);
  }
  const keys: Keys = {};
  const v = vaultKey ?? saved.vaultKey;
  const c = clusterSecret ?? saved.clusterSecret;
  if (v) keys.vaultKey = v;
  if (c) keys.clusterSecret = c;
  if ((vaultKey && !saved.vaultKey) || (clusterSecret && !saved.clusterSecret)) {
    await writeKeyFile(path, keys);
  }
  return keys;
}

/** Reads the API bearer token, creating a random one (mode 0600) the first time. */
export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 16) return token;
  } catch (err) {
    if (nodeErrorCode(err) !== CODES.NOT_FOUND) throw err;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFileAtomic(path, `${token}\n`, 0o600);
  return token;
}

export async function writeApiInfo(dataDir: string, info: ApiInfo): Promise<void> {
  await writeFileAtomic(join(dataDir, API_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export async function removeApiInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, API_FILE), { force: true });
}

/**
 * What a client on this machine needs to talk to the node running on `dataDir`:
 * its HTTP address (from api.json) and its bearer token. Undefined when no node is running.
 */
export async function readApiInfo(
  dataDir: string,
): Promise<(ApiInfo & { token: string }) | undefined> {
  const json = await readJson(join(dataDir, API_FILE));
  if (!isObject(json) || typeof json.url !== 'string') return undefined;
  let token: string;
  try {
    token = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim();
  } catch (err) {
    if (nodeErrorCode(err) === CODES.NOT_FOUND) return undefined;
    throw err;
  }
  return { ...(json as unknown as ApiInfo), token };
}
