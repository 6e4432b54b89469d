// Listing the vault's files: the ones this node holds, or with `all` every file any connected
// peer holds too, each peer's list merged as it arrives (newest version, counted holders).

import type { Readable } from 'node:stream';
import type { CasStore } from '@peerstash/cas-store';
import { ListMerge, lineOf, readListBody } from '../cluster-list.js';
import type { NodeConfig } from '../config.js';
import { ClosedError, errorCode } from '../errors.js';
import { plainSizeOfBlob } from '../file-key.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { ListLine } from '../messages.js';
import type { PeerRpc } from '../net/peer-rpc.js';
import { Meter } from '../streams.js';
import { deletedAfter } from '../tombstone-rules.js';
import type { TombstoneStore } from '../tombstones.js';
import { fileIdOf, openName, requireVault, type Vault } from '../vault.js';

export interface FileEntry {
  key: string;
  size: number;
  createdAt: number;
  /** With `list({ all: true })`: nodes holding this version (this one and its peers). */
  copies?: number;
}

export interface ListComponents {
  nodeId: string;
  vault: Vault | undefined;
  cas: CasStore;
  tombstones: TombstoneStore;
  rpc: PeerRpc;
  peerIds(): string[];
  life: Lifecycle;
  log: Logger;
  config: Pick<NodeConfig, 'requestTimeoutMs' | 'idleTimeoutMs'>;
}

/**
 * Files of this vault, sorted by key: those this node holds, or with `all` every file that this
 * node or any connected peer holds (storage-only peers included), each with `copies`, the number
 * of nodes holding its newest version. A peer that does not answer is left out (logged).
 */
export async function listFiles(c: ListComponents, all: boolean): Promise<FileEntry[]> {
  const vault = requireVault(c.vault);
  const { ns } = vault;
  const out: FileEntry[] = [];
  const entry = (line: ListLine): FileEntry | undefined => {
    const name = line.extra.name;
    if (typeof name !== 'string') return undefined;
    let key: string;
    try {
      key = openName(vault, name);
    } catch (err) {
      c.log.warn({ id: line.id, code: errorCode(err) }, 'sealed file name does not open');
      return undefined;
    }
    // a name replayed under another file's id (a peer's mistake or malice) is not that file
    if (fileIdOf(vault, key) !== line.id) return undefined;
    // deleted everywhere after this version: a returning peer's old copy is not a file
    if (deletedAfter(c.tombstones, ns, line)) return undefined;
    return { key, size: plainSizeOfBlob(line), createdAt: line.createdAt };
  };
  if (!all) {
    for await (const meta of c.cas.list(ns)) {
      const e = entry(lineOf(meta));
      if (e) out.push(e);
    }
  } else {
    const merge = new ListMerge();
    for await (const meta of c.cas.list(ns)) merge.add(lineOf(meta), c.nodeId);
    await Promise.all(c.peerIds().map((p) => listFrom(c, p, ns, merge)));
    if (!c.life.live()) throw new ClosedError();
    for (const { line, copies } of merge.values()) {
      const e = entry(line);
      if (e) out.push({ ...e, copies });
    }
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/** Adds what one peer holds in `ns` to `merge`; a peer that fails is logged and skipped. */
async function listFrom(
  c: ListComponents,
  peerId: string,
  ns: string,
  merge: ListMerge,
): Promise<void> {
  let stream: Readable | undefined;
  try {
    const reply = await c.rpc.request(
      peerId,
      { type: 'list-request', ns },
      { expect: 'list-response', timeoutMs: c.config.requestTimeoutMs },
    );
    stream = reply.stream;
    const meter = new Meter({ idleMs: c.config.idleTimeoutMs, what: 'list' });
    const body = stream.pipe(meter);
    stream.once('error', (err) => meter.destroy(err));
    // merged as it arrives: a peer cut off part-way still contributes what it did hold
    for await (const line of readListBody(body)) merge.add(line, peerId);
  } catch (err) {
    stream?.destroy();
    c.log.info({ peer: peerId, code: errorCode(err) }, 'a peer did not list its files');
  }
}
