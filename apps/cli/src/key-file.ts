// keys.json as the CLI sees it: the fileserver's own parser behind the CLI's errors (exit codes,
// hints), and the text `init` and `keys export` write (`{ version: 1, vaultKey?, clusterSecret? }`).

import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Keys } from '@peerstash/fileserver';
import { LAYOUT } from './data-dir.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

export type KeyFile = Keys;

/** `path` as a key file: a data dir stands for the keys.json in it. */
export async function locateKeyFile(path: string): Promise<string> {
  const file = resolve(path);
  const st = await stat(file).catch(() => undefined);
  return st?.isDirectory() ? join(file, LAYOUT.keys) : file;
}

/** Whether `file` is a node's own keys.json (a data dir holds it), not a copy brought along. */
export async function isNodeKeyFile(file: string): Promise<boolean> {
  return Boolean(await stat(join(dirname(file), LAYOUT.node)).catch(() => undefined));
}

/** Reads a key file; `path` may also be a data dir holding keys.json. */
export async function readKeyFile(path: string): Promise<KeyFile> {
  const file = await locateKeyFile(path);
  if (!(await stat(file).catch(() => undefined))) {
    throw new CliError(
      'ERR_NO_KEY_FILE',
      EXIT.NOT_FOUND,
      `no key file at ${file}`,
      'give the keys.json of an initialised node',
    );
  }
  // Loaded on use, as the node stack is: the client commands start without it.
  const { readKeyFile: parse } = await import('@peerstash/fileserver');
  try {
    return await parse(file);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_INVALID_ARGUMENT') throw err;
    throw new CliError(
      'ERR_BAD_KEY_FILE',
      EXIT.NOT_INITIALISED,
      `not a peerstash key file: ${(err as Error).message}`,
      'restore the key file from the node it was copied from',
      { cause: err },
    );
  }
}

export function encodeKeyFile(keys: KeyFile): string {
  const out: Record<string, unknown> = { version: 1 };
  if (keys.vaultKey) out.vaultKey = keys.vaultKey.toString('base64');
  if (keys.clusterSecret) out.clusterSecret = keys.clusterSecret.toString('base64');
  return `${JSON.stringify(out, null, 2)}\n`;
}
