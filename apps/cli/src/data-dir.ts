// The node's data dir as the CLI sees it: where it is, the files `init` writes, and how a
// client finds the running node (api.json) and its bearer token (api-token).

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** File names inside a data dir; the file server reads and writes the same ones. */
export const LAYOUT = {
  node: 'node.json',
  keys: 'keys.json',
  token: 'api-token',
  blobs: 'blobs',
  api: 'api.json',
} as const;

/** `--dir`, else `PEERSTASH_DIR`, else `~/.peerstash`. */
export function resolveDataDir(dir: string | undefined, env = process.env): string {
  if (dir) return resolve(dir);
  if (env.PEERSTASH_DIR) return resolve(env.PEERSTASH_DIR);
  return join(homedir(), '.peerstash');
}

/** Writes a secret file readable by its owner only, refusing to overwrite. */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600, flag: 'wx' });
  // The umask can only clear bits, but an inherited ACL or odd umask must not widen it.
  await chmod(path, 0o600);
}

export function newApiToken(): string {
  return randomBytes(32).toString('hex');
}

/** Checks that `dir` holds an initialised node and names the fix when it does not. */
export async function assertInitialised(dir: string): Promise<void> {
  const st = await stat(dir).catch((err: { code?: string }) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) {
    throw new CliError(
      'ERR_NOT_INITIALISED',
      EXIT.NOT_INITIALISED,
      `no data dir at ${dir}`,
      `run "peerstash init --dir ${dir}", or point --dir / PEERSTASH_DIR at an existing one`,
    );
  }
  if (!st.isDirectory()) {
    throw new CliError(
      'ERR_NOT_INITIALISED',
      EXIT.NOT_INITIALISED,
      `${dir} is not a directory`,
      'point --dir / PEERSTASH_DIR at a peerstash data dir',
    );
  }
  const keys = await stat(join(dir, LAYOUT.keys)).catch(() => undefined);
  if (!keys) {
    throw new CliError(
      'ERR_NOT_INITIALISED',
      EXIT.NOT_INITIALISED,
      `${dir} is not a peerstash data dir (no ${LAYOUT.keys})`,
      `run "peerstash init --dir ${dir}", or point --dir / PEERSTASH_DIR at the right one`,
    );
  }
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export interface ApiEndpoint {
  host: string;
  port: number;
}

/** Reads api.json, which the running node writes on start and removes on stop. */
export async function readApiEndpoint(dir: string): Promise<ApiEndpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, LAYOUT.api), 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Caught between the node's write and rename, or left by a crash: treat as not running.
    return undefined;
  }
  return parseEndpoint(json);
}

function parseEndpoint(json: Record<string, unknown>): ApiEndpoint | undefined {
  const fromUrl = (u: unknown) => {
    if (typeof u !== 'string') return undefined;
    try {
      const url = new URL(u);
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
    } catch {
      return undefined;
    }
  };
  const fromAddr = (a: unknown) => {
    if (typeof a !== 'string') return undefined;
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(a);
    return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
  };
  const ep =
    fromUrl(json.url) ??
    fromAddr(json.address) ??
    fromAddr(json.api) ??
    (typeof json.port === 'number'
      ? { host: typeof json.host === 'string' ? json.host : '127.0.0.1', port: json.port }
      : undefined);
  if (!ep) return undefined;
  // A node bound to every interface is reached on loopback.
  if (ep.host === '0.0.0.0' || ep.host === '') ep.host = '127.0.0.1';
  if (ep.host === '::') ep.host = '::1';
  return ep;
}

export async function readApiToken(dir: string): Promise<string> {
  return (await readFile(join(dir, LAYOUT.token), 'utf8')).trim();
}
