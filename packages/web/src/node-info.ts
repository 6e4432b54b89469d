// What the console reads from the node's data dir beside the API: free disk space where the
// blobs live, and the peers the node has met (node.json), so a peer that is down shows as offline.

import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskSpace {
  /** Bytes an unprivileged process may still write. */
  free: number;
  total: number;
}

export interface KnownPeer {
  id: string;
  addr: string;
}

export interface NodeInfo {
  disk: DiskSpace | null;
  knownPeers: KnownPeer[];
}

const MAX_PEERS = 256;

export async function diskSpace(dir: string): Promise<DiskSpace | null> {
  try {
    const s = await statfs(dir);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** The peers saved in node.json; a missing or damaged file knows none (the page still works). */
export async function knownPeers(dataDir: string): Promise<KnownPeer[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8'));
  } catch {
    return [];
  }
  const peers = (json as { peers?: unknown }).peers;
  if (!Array.isArray(peers)) return [];
  return peers
    .filter(
      (p): p is KnownPeer =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.id === 'string' &&
        /^[0-9a-f]{64}$/.test(p.id) &&
        typeof p.addr === 'string' &&
        p.addr.length <= 256,
    )
    .slice(0, MAX_PEERS)
    .map((p) => ({ id: p.id, addr: p.addr }));
}

export async function readNodeInfo(dataDir: string | undefined): Promise<NodeInfo> {
  if (!dataDir) return { disk: null, knownPeers: [] };
  const [disk, peers] = await Promise.all([diskSpace(join(dataDir)), knownPeers(dataDir)]);
  return { disk, knownPeers: peers };
}
