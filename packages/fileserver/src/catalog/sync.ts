// Catalog anti-entropy and record push over a narrow peer-rpc interface: the writer pushes each
// record to every peer before it acknowledges; rounds compare roots, then summaries, then records.

import { errorCode, ProtocolError } from '../errors.js';
import type { Part } from '../repair/summary.js';
import type { Catalog } from './catalog.js';
import { type CatalogReply, type CatalogRequest, MAX_RECORDS, REPLY_TYPE } from './messages.js';
import { decodeRecord } from './record.js';
import type { ApplyResult } from './record-store.js';
import { answerSummary, compareSummaries } from './summary-tree.js';

/** A message as handed to the rpc, which adds the request id (and copies it onto the reply). */
export type Outgoing<T> = T extends unknown ? Omit<T, 'reqId'> : never;

export interface RequestOptions {
  expect: CatalogReply['type'];
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What the catalog needs of the node's peer-rpc (net/peer-rpc.ts after the refactor). */
export interface CatalogPeers {
  /** Ids of the peers connected now. */
  peers(): string[];
  request(
    peer: string,
    msg: Outgoing<CatalogRequest>,
    options: RequestOptions,
  ): Promise<CatalogReply>;
}

/** The serving side: the rpc calls `fn` for each request of `type` and sends back what it returns. */
export interface CatalogHandlers {
  handle(
    type: CatalogRequest['type'],
    fn: (msg: CatalogRequest, from: string) => Promise<Outgoing<CatalogReply>>,
  ): void;
}

export interface SyncOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What one record's apply reports to its sender. */
function resultWord(r: ApplyResult): string {
  if (r.outcome === 'applied' || r.outcome === 'kept' || r.outcome === 'expired') return r.outcome;
  return r.code ?? 'ERR_BAD_RECORD';
}

/** Installs the handlers of the four catalog requests. */
export function serveCatalog(rpc: CatalogHandlers, catalog: Catalog): void {
  rpc.handle('catalog-push', async (msg) => {
    const m = msg as Extract<CatalogRequest, { type: 'catalog-push' }>;
    const results = await catalog.applyMany(m.records);
    return { type: 'catalog-push-ack', results: results.map(resultWord) };
  });
  rpc.handle('catalog-roots', async () => ({
    type: 'catalog-roots-reply',
    roots: catalog.roots(),
  }));
  rpc.handle('catalog-summary', async (msg) => {
    const m = msg as Extract<CatalogRequest, { type: 'catalog-summary' }>;
    return {
      type: 'catalog-summary-reply',
      ok: true,
      parts: answerSummary(catalog.summary(m.ns), m.prefixes, m.root),
    };
  });
  rpc.handle('catalog-fetch', async (msg) => {
    const m = msg as Extract<CatalogRequest, { type: 'catalog-fetch' }>;
    return { type: 'catalog-fetch-reply', records: catalog.encoded(m.ns, m.ids) };
  });
}

async function ask<T extends CatalogReply['type']>(
  peers: CatalogPeers,
  peer: string,
  msg: Outgoing<CatalogRequest>,
  options: SyncOptions,
): Promise<Extract<CatalogReply, { type: T }>> {
  const expect = REPLY_TYPE[msg.type] as T;
  const reply = await peers.request(peer, msg, { expect, ...options });
  if (reply.type !== expect) throw new ProtocolError(`expected ${expect}, got ${reply.type}`);
  return reply as Extract<CatalogReply, { type: T }>;
}

export interface PushReport {
  /** Peers that applied (or already held something newer than) every record. */
  acked: string[];
  /** Peers that did not answer, or refused a record (with the first code). */
  failed: Array<{ peer: string; code: string }>;
}

/**
 * Sends records to every connected peer at once and waits for each to answer: the writer of a put
 * or delete calls this before it acknowledges, so concurrent writes of one key meet on every peer.
 */
export async function pushRecords(
  peers: CatalogPeers,
  encoded: readonly Uint8Array[],
  options: SyncOptions = {},
): Promise<PushReport> {
  const report: PushReport = { acked: [], failed: [] };
  await Promise.all(
    peers.peers().map(async (peer) => {
      try {
        for (let i = 0; i < encoded.length; i += MAX_RECORDS) {
          const records = encoded.slice(i, i + MAX_RECORDS) as Uint8Array[];
          const ack = await ask<'catalog-push-ack'>(
            peers,
            peer,
            { type: 'catalog-push', records },
            options,
          );
          const bad = ack.results.find((r) => r.startsWith('ERR_'));
          if (bad) throw Object.assign(new Error(bad), { code: bad });
        }
        report.acked.push(peer);
      } catch (err) {
        report.failed.push({ peer, code: errorCode(err) ?? 'ERR_PROTOCOL' });
      }
    }),
  );
  return report;
}

export interface SyncReport {
  /** Messages sent to the peer (each answered): 1 when everything was in sync. */
  requests: number;
  /** Namespaces whose roots differed. */
  compared: number;
  /** Records fetched from the peer and applied here (new winners). */
  applied: number;
  /** Records of ours the peer took. */
  pushed: number;
  /** Records of ours held back: the peer had forgotten newer tombstones (see DESIGN, Catalog). */
  quarantined: number;
}

/**
 * One anti-entropy exchange with `peer`, both ways: their roots, then for each namespace that
 * differs a walk down the summaries to the records that differ; ours that win go to them, theirs
 * that win come here. A record of ours the peer lacks while it has already forgotten tombstones as
 * new (its `pruned`) may be a deleted file coming back: it is quarantined, not pushed.
 */
export async function syncWithPeer(
  catalog: Catalog,
  peers: CatalogPeers,
  peer: string,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const report: SyncReport = { requests: 0, compared: 0, applied: 0, pushed: 0, quarantined: 0 };
  const send = <T extends CatalogReply['type']>(msg: Outgoing<CatalogRequest>) => {
    report.requests++;
    return ask<T>(peers, peer, msg, options);
  };
  const { roots } = await send<'catalog-roots-reply'>({ type: 'catalog-roots' });
  const theirs = new Map(roots.map((r) => [r.ns, r]));
  const mine = new Map(catalog.roots().map((r) => [r.ns, r]));
  for (const ns of [...new Set([...mine.keys(), ...theirs.keys()])].sort()) {
    const a = mine.get(ns)?.root;
    const b = theirs.get(ns)?.root;
    if (a && b && Buffer.from(a).equals(Buffer.from(b))) continue;
    report.compared++;
    const pruned = theirs.get(ns)?.pruned ?? 0;
    const askSummary = async (prefixes: string[], root?: Uint8Array): Promise<Part[]> => {
      const reply = await send<'catalog-summary-reply'>({
        type: 'catalog-summary',
        ns,
        prefixes,
        ...(root ? { root } : {}),
      });
      if (!reply.ok) throw new ProtocolError(`peer refused a summary: ${reply.code ?? 'no code'}`);
      return reply.parts;
    };
    for await (const diff of compareSummaries(catalog.summary(ns), askSummary)) {
      if ('theirs' in diff) {
        report.applied += await fetchAndApply(catalog, send, ns, diff.theirs);
      } else if ('differ' in diff) {
        report.applied += await fetchAndApply(
          catalog,
          send,
          ns,
          diff.differ.map((d) => d.id),
        );
        // after taking theirs, what still differs is ours winning: they should have it
        const ours = diff.differ
          .filter((d) => !catalog.hash(ns, d.id)?.equals(d.hash))
          .map((d) => d.id);
        await pushOurs(catalog, send, ns, ours, 0, report);
      } else {
        await pushOurs(catalog, send, ns, diff.mine, pruned, report);
      }
    }
  }
  return report;
}

type Send = <T extends CatalogReply['type']>(
  msg: Outgoing<CatalogRequest>,
) => Promise<Extract<CatalogReply, { type: T }>>;

async function fetchAndApply(
  catalog: Catalog,
  send: Send,
  ns: string,
  ids: string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const { records } = await send<'catalog-fetch-reply'>({ type: 'catalog-fetch', ns, ids });
  // a peer answers for the records asked of it, in this namespace, and nothing else
  const asked = new Set(ids);
  const mine = records.filter((bytes) => {
    try {
      const r = decodeRecord(bytes);
      return r.ns === ns && asked.has(r.id);
    } catch {
      return false;
    }
  });
  const results = await catalog.applyMany(mine);
  return results.filter((r) => r.outcome === 'applied').length;
}

async function pushOurs(
  catalog: Catalog,
  send: Send,
  ns: string,
  ids: string[],
  pruned: number,
  report: SyncReport,
): Promise<void> {
  const out: Uint8Array[] = [];
  const sent: string[] = [];
  for (const id of ids) {
    const r = catalog.get(ns, id);
    if (!r) continue;
    if (r.hlc.wall <= pruned) {
      // a tombstone that old has expired there too; a put that old may be one of them undone
      if (
        !r.deleted &&
        (await catalog.quarantine(ns, id, `peer lacks it and forgot tombstones up to ${pruned}`))
      ) {
        report.quarantined++;
      }
      continue;
    }
    out.push(catalog.encoded(ns, [id])[0] as Uint8Array);
    sent.push(id);
  }
  if (out.length === 0) return;
  const ack = await send<'catalog-push-ack'>({ type: 'catalog-push', records: out });
  for (const [i, result] of ack.results.entries()) {
    if (result === 'applied') report.pushed++;
    else if (
      result === 'ERR_STALE_RECORD' &&
      (await catalog.quarantine(ns, sent[i] as string, 'peer refused: ERR_STALE_RECORD'))
    ) {
      report.quarantined++;
    }
  }
}

export interface RoundReport {
  peers: number;
  failed: Array<{ peer: string; code: string }>;
  totals: SyncReport;
}

/** One round with every connected peer in turn; a peer that fails is reported and skipped. */
export async function syncRound(
  catalog: Catalog,
  peers: CatalogPeers,
  options: SyncOptions = {},
): Promise<RoundReport> {
  const totals: SyncReport = { requests: 0, compared: 0, applied: 0, pushed: 0, quarantined: 0 };
  const failed: RoundReport['failed'] = [];
  const list = peers.peers();
  for (const peer of list) {
    if (options.signal?.aborted) break;
    try {
      const r = await syncWithPeer(catalog, peers, peer, options);
      for (const k of Object.keys(totals) as Array<keyof SyncReport>) totals[k] += r[k];
    } catch (err) {
      failed.push({ peer, code: errorCode(err) ?? 'ERR_PROTOCOL' });
    }
  }
  return { peers: list.length, failed, totals };
}
