// Records held back in quarantine (a node back after the tombstone TTL holds files the cluster
// may have deleted and forgotten): what an operator sees, and confirms (release) or drops.

import { deriveFileId } from '@peerstash/crypto';
import type { Catalog } from '../catalog/catalog.js';
import { openName } from '../catalog/record.js';
import { checkFileKey } from '../file-key.js';
import type { Vault } from '../vault.js';
import { requireVault } from '../vault.js';
import { type PublishComponents, publish } from './publish.js';

export interface QuarantineEntry {
  /** The file's key, on a vault node (storage-only nodes see ids only). */
  key?: string;
  ns: string;
  id: string;
  /** The version held back, or none for a tombstone. */
  version?: string;
  size: number;
  /** When the record was written (ms) and when it was held back. */
  modified: number;
  quarantinedAt: number;
  reason: string;
}

export interface QuarantineComponents extends PublishComponents {
  vault: Vault | undefined;
  catalog: Catalog;
}

export function listQuarantine(c: QuarantineComponents): QuarantineEntry[] {
  return c.catalog.quarantined().map(({ record: r, reason, at }) => {
    const out: QuarantineEntry = {
      ns: r.ns,
      id: r.id,
      size: r.size,
      modified: r.hlc.wall,
      quarantinedAt: at,
      reason,
    };
    if (r.version) out.version = r.version;
    if (c.vault && r.ns === c.vault.ns) {
      try {
        out.key = openName(c.vault.vaultKey, r);
      } catch {
        // a name that does not open stays an id
      }
    }
    return out;
  });
}

/**
 * An operator confirms the held-back record of `key`: it is written again with a fresh clock and
 * pushed to every peer, so it spreads and wins (its blob is then repaired like any other).
 */
export async function releaseQuarantined(c: QuarantineComponents, key: string): Promise<boolean> {
  checkFileKey(key);
  const vault = requireVault(c.vault);
  const committed = await c.catalog.release(vault.ns, deriveFileId(vault.vaultKey, key));
  if (!committed) return false;
  await publish(c, committed);
  return true;
}

/** An operator drops the held-back record of `key` for good (its blob is left to repair). */
export async function dropQuarantined(c: QuarantineComponents, key: string): Promise<boolean> {
  checkFileKey(key);
  const vault = requireVault(c.vault);
  return c.catalog.drop(vault.ns, deriveFileId(vault.vaultKey, key));
}
