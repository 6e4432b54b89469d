// Peer messages of the catalog (record push, roots and summary exchange, record fetch) and their
// strict parser, in the style of ../messages.ts: anything a peer sends is checked before it is used.

import { fail, hex64, obj, reqId, uint } from '../message-fields.js';
import { FANOUT, MAX_PREFIXES, type Part } from '../repair/summary.js';
import { MAX_RECORD_BYTES } from './record.js';
import { HASH_BYTES, LIST_ENTRY } from './summary-tree.js';

/** Records per push or fetch: 64 of the largest (8.4 KB) stay well under the 1 MiB message limit. */
export const MAX_RECORDS = 64;
export const MAX_NAMESPACES = 1024;
const MAX_PART_ENTRIES = 4096;
const PREFIX = /^(?:[0-9a-f]{2}){0,31}$/;
const RESULT = /^[A-Za-z_]{1,40}$/;

/** Writer → every peer at put/delete time (and anti-entropy pushing what a peer lacks). */
export type CatalogPush = { type: 'catalog-push'; reqId: string; records: Uint8Array[] };

/** Per record, in order: an outcome ('applied', 'kept', 'expired') or the error code of a refusal. */
export type CatalogPushAck = { type: 'catalog-push-ack'; reqId: string; results: string[] };

/** "Your root summary of every namespace": the first message of a sync, all an idle one costs. */
export type CatalogRoots = { type: 'catalog-roots'; reqId: string };

export type RootEntry = { ns: string; root: Uint8Array; pruned: number };

export type CatalogRootsReply = { type: 'catalog-roots-reply'; reqId: string; roots: RootEntry[] };

/** "Summarize your records of `ns` under each prefix" (root: the asker's, on the first request). */
export type CatalogSummary = {
  type: 'catalog-summary';
  reqId: string;
  ns: string;
  prefixes: string[];
  root?: Uint8Array;
};

export type CatalogSummaryReply = {
  type: 'catalog-summary-reply';
  reqId: string;
  ok: boolean;
  code?: string;
  parts: Part[];
};

/** "Send me your records of these ids." */
export type CatalogFetch = { type: 'catalog-fetch'; reqId: string; ns: string; ids: string[] };

export type CatalogFetchReply = {
  type: 'catalog-fetch-reply';
  reqId: string;
  records: Uint8Array[];
};

/** "Which versions of these files do you hold?" (list copies, stat holders), from the holdings index. */
export type HoldingsQuery = { type: 'holdings-query'; reqId: string; ns: string; ids: string[] };

/** Per id asked, in order, 32 bytes: the sealed digest held, or zeros when none. */
export type HoldingsReply = { type: 'holdings-reply'; reqId: string; held: Uint8Array };

export const MAX_HOLDINGS_IDS = 1024;

export type CatalogRequest = CatalogPush | CatalogRoots | CatalogSummary | CatalogFetch;
export type CatalogReply =
  | CatalogPushAck
  | CatalogRootsReply
  | CatalogSummaryReply
  | CatalogFetchReply;
export type CatalogMessage = CatalogRequest | CatalogReply | HoldingsQuery | HoldingsReply;

/** The reply type of each request, for a peer-rpc's `expect`. */
export const REPLY_TYPE = {
  'catalog-push': 'catalog-push-ack',
  'catalog-roots': 'catalog-roots-reply',
  'catalog-summary': 'catalog-summary-reply',
  'catalog-fetch': 'catalog-fetch-reply',
} as const satisfies Record<CatalogRequest['type'], CatalogReply['type']>;

function array(v: unknown, max: number, name: string): unknown[] {
  if (!Array.isArray(v) || v.length > max) fail(name);
  return v;
}

function bytes(v: unknown, name: string, len?: number, max = Number.POSITIVE_INFINITY): Uint8Array {
  if (!(v instanceof Uint8Array) || (len !== undefined && v.length !== len) || v.length > max)
    fail(name);
  return v;
}

function prefix(v: unknown): string {
  if (typeof v !== 'string' || !PREFIX.test(v)) fail('prefix');
  return v;
}

function records(v: unknown): Uint8Array[] {
  // each record is checked in full (decodeRecord) where it is applied; here only its size
  return array(v, MAX_RECORDS, 'records').map((r) =>
    bytes(r, 'record', undefined, MAX_RECORD_BYTES),
  );
}

function part(v: unknown): Part {
  const p = obj(v);
  const at = prefix(p.prefix);
  const count = uint(p.count, 'part.count');
  if (p.same === true) return { prefix: at, count, same: true };
  if (p.list !== undefined) {
    const list = bytes(p.list, 'part.list', undefined, MAX_PART_ENTRIES * LIST_ENTRY);
    if (list.length % LIST_ENTRY !== 0) fail('part.list');
    return { prefix: at, count, list };
  }
  return {
    prefix: at,
    count,
    hashes: bytes(p.hashes, 'part.hashes', FANOUT * HASH_BYTES),
    counts: bytes(p.counts, 'part.counts', FANOUT * 4),
  };
}

function code(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, 64) : undefined;
}

/** Checks a catalog message; undefined when `m.type` is not one (so ../messages.ts can chain it). */
export function parseCatalogMessage(m: Record<string, unknown>): CatalogMessage | undefined {
  switch (m.type) {
    case 'catalog-push':
      return { type: 'catalog-push', reqId: reqId(m.reqId), records: records(m.records) };
    case 'catalog-push-ack':
      return {
        type: 'catalog-push-ack',
        reqId: reqId(m.reqId),
        results: array(m.results, MAX_RECORDS, 'results').map((r) => {
          if (typeof r !== 'string' || !RESULT.test(r)) fail('result');
          return r;
        }),
      };
    case 'catalog-roots':
      return { type: 'catalog-roots', reqId: reqId(m.reqId) };
    case 'catalog-roots-reply':
      return {
        type: 'catalog-roots-reply',
        reqId: reqId(m.reqId),
        roots: array(m.roots, MAX_NAMESPACES, 'roots').map((v) => {
          const r = obj(v);
          return {
            ns: hex64(r.ns, 'roots.ns'),
            root: bytes(r.root, 'roots.root', HASH_BYTES + 4),
            pruned: uint(r.pruned, 'roots.pruned'),
          };
        }),
      };
    case 'catalog-summary': {
      const out: CatalogSummary = {
        type: 'catalog-summary',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        prefixes: array(m.prefixes, MAX_PREFIXES, 'prefixes').map(prefix),
      };
      if (m.root !== undefined) out.root = bytes(m.root, 'root', HASH_BYTES + 4);
      return out;
    }
    case 'catalog-summary-reply': {
      const out: CatalogSummaryReply = {
        type: 'catalog-summary-reply',
        reqId: reqId(m.reqId),
        ok: m.ok === true,
        parts: array(m.parts ?? [], MAX_PREFIXES, 'parts').map(part),
      };
      const c = code(m.code);
      if (c !== undefined) out.code = c;
      return out;
    }
    case 'catalog-fetch':
      return {
        type: 'catalog-fetch',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        ids: array(m.ids, MAX_RECORDS, 'ids').map((id) => hex64(id, 'id')),
      };
    case 'catalog-fetch-reply':
      return { type: 'catalog-fetch-reply', reqId: reqId(m.reqId), records: records(m.records) };
    case 'holdings-query':
      return {
        type: 'holdings-query',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        ids: array(m.ids, MAX_HOLDINGS_IDS, 'ids').map((id) => hex64(id, 'id')),
      };
    case 'holdings-reply': {
      const held = bytes(m.held, 'held', undefined, MAX_HOLDINGS_IDS * 32);
      if (held.length % 32 !== 0) fail('held');
      return { type: 'holdings-reply', reqId: reqId(m.reqId), held };
    }
    default:
      return undefined;
  }
}
