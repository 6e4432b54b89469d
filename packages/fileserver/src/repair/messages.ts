// Peer messages of anti-entropy repair (summaries, holdings queries, tombstones) and their strict
// parser; messages.ts hands every type it does not know to parseRepairMessage.

import { fail, hex64, reqId, uint } from '../message-fields.js';
import { FANOUT, LIST_RECORD, MAX_PREFIXES, type Part } from './summary.js';

const PREFIX = /^(?:[0-9a-f]{2}){0,31}$/;
const VERSION = /^(?:[0-9a-f]{64}|tomb:\d{1,16})$/;
/** Ids asked about in one repair-have. */
export const MAX_HAVE_IDS = 512;
/** Entries listed in one reply part (the responder lists at most LIST_MAX; slack for races). */
const MAX_PART_ENTRIES = 4096;

/** "Summarize, for each prefix, the keys both of us should hold under placement view `view`." */
export type RepairSummary = {
  type: 'repair-summary';
  reqId: string;
  ns: string;
  /** SHA-256 of the sorted live node ids the asker placed keys over. */
  view: string;
  prefixes: string[];
  /** The asker's whole-set root (see rootOf), sent with the first request of a comparison. */
  root?: Uint8Array;
};

export type RepairSummaryReply = {
  type: 'repair-summary-reply';
  reqId: string;
  ok: boolean;
  code?: string;
  parts: Part[];
};

/** "What do you hold of these ids?" (asked before a surplus copy may be dropped). */
export type RepairHave = {
  type: 'repair-have';
  reqId: string;
  ns: string;
  ids: string[];
};

/** For each id held: [id, version, at, keeps] (keeps: the responder is in its own placement). */
export type RepairHaveReply = {
  type: 'repair-have-reply';
  reqId: string;
  entries: [string, string, number, boolean][];
};

/** A delete everywhere: replicated like data; a blob older than `deletedAt` is removed. */
export type TombstoneMessage = {
  type: 'tombstone';
  ns: string;
  id: string;
  deletedAt: number;
  origin: string;
};

export type RepairMessage =
  | RepairSummary
  | RepairSummaryReply
  | RepairHave
  | RepairHaveReply
  | TombstoneMessage;

function bytes(v: unknown, len: number, name: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== len) fail(name);
  return v;
}

function array(v: unknown, max: number, name: string): unknown[] {
  if (!Array.isArray(v) || v.length > max) fail(name);
  return v;
}

function part(v: unknown): Part {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('part');
  const p = v as Record<string, unknown>;
  if (typeof p.prefix !== 'string' || !PREFIX.test(p.prefix)) fail('part.prefix');
  const count = uint(p.count, 'part.count');
  if (p.same === true) return { prefix: p.prefix, count, same: true };
  if (p.list !== undefined) {
    const list = p.list;
    if (
      !(list instanceof Uint8Array) ||
      list.length % LIST_RECORD !== 0 ||
      list.length > MAX_PART_ENTRIES * LIST_RECORD
    ) {
      fail('part.list');
    }
    return { prefix: p.prefix, count, list };
  }
  return {
    prefix: p.prefix,
    count,
    hashes: bytes(p.hashes, FANOUT * 8, 'part.hashes'),
    counts: bytes(p.counts, FANOUT * 4, 'part.counts'),
  };
}

/** Checks a repair message; undefined when `m.type` is not one of them. */
export function parseRepairMessage(m: Record<string, unknown>): RepairMessage | undefined {
  switch (m.type) {
    case 'repair-summary': {
      const out: RepairSummary = {
        type: 'repair-summary',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        view: hex64(m.view, 'view'),
        prefixes: array(m.prefixes, MAX_PREFIXES, 'prefixes').map((p) => {
          if (typeof p !== 'string' || !PREFIX.test(p)) fail('prefix');
          return p;
        }),
      };
      if (m.root !== undefined) out.root = bytes(m.root, 12, 'root');
      return out;
    }
    case 'repair-summary-reply': {
      const out: RepairSummaryReply = {
        type: 'repair-summary-reply',
        reqId: reqId(m.reqId),
        ok: m.ok === true,
        parts: array(m.parts ?? [], MAX_PREFIXES, 'parts').map(part),
      };
      if (typeof m.code === 'string') out.code = m.code.slice(0, 64);
      return out;
    }
    case 'repair-have':
      return {
        type: 'repair-have',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        ids: array(m.ids, MAX_HAVE_IDS, 'ids').map((id) => hex64(id, 'id')),
      };
    case 'repair-have-reply':
      return {
        type: 'repair-have-reply',
        reqId: reqId(m.reqId),
        entries: array(m.entries, MAX_HAVE_IDS, 'entries').map((e) => {
          const [id, ver, at, keeps] = array(e, 4, 'entry');
          if (typeof ver !== 'string' || !VERSION.test(ver)) fail('entry version');
          if (typeof keeps !== 'boolean') fail('entry keeps');
          return [hex64(id, 'entry id'), ver, uint(at, 'entry at'), keeps] as [
            string,
            string,
            number,
            boolean,
          ];
        }),
      };
    case 'tombstone':
      return {
        type: 'tombstone',
        ns: hex64(m.ns, 'ns'),
        id: hex64(m.id, 'id'),
        deletedAt: uint(m.deletedAt, 'deletedAt'),
        origin: hex64(m.origin, 'origin'),
      };
    default:
      return undefined;
  }
}
