// The vault a node reads and writes files of: its key, its namespace, and what is derived from
// the key (file ids, sealed file names); a storage-only node has none.

import { deriveFileId, deriveNamespace, openBytes, sealBytes } from '@peerstash/crypto';
import { NoVaultKeyError } from './errors.js';
import { checkFileKey } from './file-key.js';

export interface Vault {
  vaultKey: Buffer;
  /** deriveNamespace(vaultKey): the namespace the files live under, here and on peers. */
  ns: string;
}

export function vaultOf(vaultKey: Buffer | undefined): Vault | undefined {
  return vaultKey ? { vaultKey, ns: deriveNamespace(vaultKey) } : undefined;
}

/** The vault, or ERR_NO_VAULT_KEY on a storage-only node. */
export function requireVault(vault: Vault | undefined): Vault {
  if (!vault) throw new NoVaultKeyError();
  return vault;
}

/** The id a file is stored under, on disk and on the wire. */
export function fileIdOf(vault: Vault, key: string): string {
  return deriveFileId(vault.vaultKey, key);
}

/** The file name as it travels and rests (`extra.name`): sealed, base64. */
export function sealName(vault: Vault, key: string): string {
  return sealBytes(vault.vaultKey, Buffer.from(key, 'utf8')).toString('base64');
}

/** The key a sealed `extra.name` opens to; throws when it does not open with this vault's key. */
export function openName(vault: Vault, name: string): string {
  return openBytes(vault.vaultKey, Buffer.from(name, 'base64')).toString('utf8');
}

/** Whether a blob's sealed name is `key`'s (false when missing or unreadable). */
export function nameMatches(vault: Vault, name: unknown, key: string): boolean {
  if (typeof name !== 'string') return false;
  try {
    return openName(vault, name) === key;
  } catch {
    return false;
  }
}

/** The file `key` names: the key checked (ERR_INVALID_KEY), the vault required, and its id. */
export function fileOf(vault: Vault | undefined, key: string): { vault: Vault; id: string } {
  checkFileKey(key);
  const v = requireVault(vault);
  return { vault: v, id: fileIdOf(v, key) };
}
