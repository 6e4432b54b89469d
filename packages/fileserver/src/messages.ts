// The peer-to-peer message schema of the file server (carried as CBOR by transport-tcp) and a
// strict parser: anything a peer sends is checked here before the node acts on it.

import { isNodeId, isPeerAddress } from '@peerstash/transport-tcp';
import { type CatalogMessage, parseCatalogMessage } from './catalog/messages.js';
import { bool, fail, hex64, obj, reqId, uint } from './message-fields.js';
import { parseRepairMessage, type RepairMessage } from './repair/messages.js';

export const MAX_PEER_ADDRS = 1024;
const MAX_EXTRA_KEYS = 16;
const MAX_EXTRA_STRING = 8192;
const MAX_CHAIN = 8;

/**
 * Blob metadata that travels with a replica and rests beside it: `name` (the file key sealed
 * with the vault key, base64), `chunkSize` (the sealed chunk size) and `putAt` (the version's
 * time, ms); at most 16 scalar fields.
 */
export type Extra = Record<string, string | number | boolean>;

/**
 * Stream header: "here is a sealed replica of (ns, id); ack when it is safely on your disk".
 * With `digest` (and `size`) the receiver checks the bytes against it as it writes them. Without,
 * the replica streams while the sender is still sealing, and a `store-commit` carrying the digest
 * follows the stream's end: the receiver only commits bytes whose SHA-256 matches it.
 */
export type StoreOffer = {
  type: 'store-offer';
  reqId: string;
  ns: string;
  id: string;
  size?: number;
  digest?: string;
  extra: Extra;
  /**
   * Chain replication: the peers after the receiver, in order. The receiver stores the stream and
   * forwards it, while receiving, to `chain[0]` with the rest; the store-commit follows the same
   * way and the store-ack names every copy made from here down. Absent (an older sender): fan-out.
   */
  chain?: string[];
};

/**
 * A small file's sealed replica whole in one message (no stream): the receiver writes and syncs
 * it at once and keeps it only once a `store-commit` with the matching digest follows, as it does
 * for a streamed replica; then it answers with a store-ack.
 */
export type StoreSmall = {
  type: 'store-small';
  reqId: string;
  ns: string;
  id: string;
  extra: Extra;
  data: Uint8Array;
};

/** Largest sealed replica a store-small may carry (well under the transport's message limit). */
export const MAX_SMALL_SEALED = 256 * 1024;

/** The digest and size of a replica streamed without them, sent once the sender knows them. */
export type StoreCommit = {
  type: 'store-commit';
  reqId: string;
  digest: string;
  size: number;
};

/** "Drop the replica I sent (store-small): my own write failed" — instead of its store-commit. */
export type StoreAbort = {
  type: 'store-abort';
  reqId: string;
};

/** Reply to a store-offer once the replica is written (ok) or refused (code). */
export type StoreAck = {
  type: 'store-ack';
  reqId: string;
  ok: boolean;
  code?: string;
  /** For a chain offer: the nodes (this one first if it kept a copy) whose copy is durable. */
  copies?: string[];
};

/** Plaintext bytes [start, end] (inclusive) of a file: a ranged get asks for only these. */
export type PlainRange = { start: number; end: number };

/**
 * "Send me the sealed blob (ns, id)". With `range`, only the sealed header and the records that
 * cover those plaintext bytes are sent (the holder plans them from its blob's chunk size).
 */
export type GetRequest = {
  type: 'get-request';
  reqId: string;
  ns: string;
  id: string;
  range?: PlainRange;
};

/**
 * Answer to a get-request: a plain message when the peer lacks the blob (`found: false`), or the
 * header of a stream carrying the sealed bytes (`found: true` with size, digest and metadata).
 */
export type GetResponse = {
  type: 'get-response';
  reqId: string;
  found: boolean;
  /** The whole sealed blob's size (also when only a range of it follows). */
  size?: number;
  digest?: string;
  extra?: Extra;
  /** Set when the stream carries only the records of this range (the header first). */
  range?: PlainRange;
};

export type DeleteRequest = {
  type: 'delete';
  reqId: string;
  ns: string;
  id: string;
  /**
   * The delete's time (its tombstone's `deletedAt`): a blob written after it is another version,
   * and stays. Absent (a node before 2026-12-04): the blob goes whatever its version.
   */
  deletedAt?: number;
  /** The version (sealed SHA-256) the deleting node knew: a blob of that digest always goes. */
  version?: string;
};

export type DeleteAck = {
  type: 'delete-ack';
  reqId: string;
  deleted: boolean;
};

/** One node a peer knows: its id and the address it listens on. */
export type PeerAddr = {
  id: string;
  addr: string;
};

/** Peer exchange: the nodes the sender knows (itself included), so a newcomer meets everyone. */
export type PeersMessage = {
  type: 'peers';
  peers: PeerAddr[];
};

/** "The replica you served failed verification", so the holder can check and drop it. */
export type IntegrityReport = {
  type: 'integrity-report';
  ns: string;
  id: string;
};

/** "Which blobs do you hold in this namespace?": answered with a list-response stream. */
export type ListRequest = {
  type: 'list-request';
  reqId: string;
  ns: string;
};

/** Header of the answer: the body is one JSON `ListLine` per line. */
export type ListResponse = {
  type: 'list-response';
  reqId: string;
};

/** One blob a peer holds: its sealed size and digest, commit time and metadata (sealed name). */
export type ListLine = {
  id: string;
  size: number;
  digest: string;
  createdAt: number;
  extra: Extra;
};

export type PeerMessage =
  | StoreSmall
  | StoreAbort
  | StoreCommit
  | ListRequest
  | StoreAck
  | GetRequest
  | GetResponse
  | DeleteRequest
  | DeleteAck
  | PeersMessage
  | IntegrityReport
  | RepairMessage
  | CatalogMessage;

export type StreamHeader = StoreOffer | GetResponse | ListResponse;

function extra(v: unknown): Extra {
  const o = obj(v);
  const keys = Object.keys(o);
  if (keys.length > MAX_EXTRA_KEYS) fail('extra has too many fields');
  const out: Extra = {};
  for (const k of keys) {
    const x = o[k];
    if (typeof x === 'string' && x.length <= MAX_EXTRA_STRING) out[k] = x;
    else if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
    else if (typeof x === 'boolean') out[k] = x;
    else fail(`extra.${k}`);
  }
  return out;
}

/** A list of distinct node ids, at most BOUNDS.maxChain + 1 (a chain's copies). */
function nodeIds(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_CHAIN + 1) fail(what);
  const out = (v as unknown[]).map((x) => hex64(x, what));
  if (new Set(out).size !== out.length) fail(`${what} names a node twice`);
  return out;
}

function plainRange(v: unknown): PlainRange {
  const r = obj(v);
  const start = uint(r.start, 'range.start');
  const end = uint(r.end, 'range.end');
  if (end < start) fail('range end before its start');
  return { start, end };
}

function describeType(t: unknown): string {
  return typeof t === 'string' ? JSON.stringify(t.slice(0, 40)) : typeof t;
}

/** Checks a message received from a peer; throws ProtocolError (ERR_PROTOCOL) on anything else. */
export function parseMessage(raw: unknown): PeerMessage {
  const m = obj(raw);
  switch (m.type) {
    case 'store-small': {
      if (!(m.data instanceof Uint8Array) || m.data.length > MAX_SMALL_SEALED) fail('data');
      return {
        type: 'store-small',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        id: hex64(m.id, 'id'),
        extra: m.extra === undefined ? {} : extra(m.extra),
        data: m.data,
      };
    }
    case 'store-abort':
      return { type: 'store-abort', reqId: reqId(m.reqId) };
    case 'store-commit':
      return {
        type: 'store-commit',
        reqId: reqId(m.reqId),
        digest: hex64(m.digest, 'digest'),
        size: uint(m.size, 'size'),
      };
    case 'store-ack': {
      const out: StoreAck = { type: 'store-ack', reqId: reqId(m.reqId), ok: bool(m.ok, 'ok') };
      if (typeof m.code === 'string') out.code = m.code.slice(0, 64);
      if (m.copies !== undefined) out.copies = nodeIds(m.copies, 'copies');
      return out;
    }
    case 'get-request': {
      const out: GetRequest = {
        type: 'get-request',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        id: hex64(m.id, 'id'),
      };
      if (m.range !== undefined) out.range = plainRange(m.range);
      return out;
    }
    case 'get-response':
      if (m.found !== false) fail('a found get-response must come as a stream');
      return { type: 'get-response', reqId: reqId(m.reqId), found: false };
    case 'delete':
      return {
        type: 'delete',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        id: hex64(m.id, 'id'),
        ...(m.deletedAt !== undefined ? { deletedAt: uint(m.deletedAt, 'deletedAt') } : {}),
        ...(m.version !== undefined ? { version: hex64(m.version, 'version') } : {}),
      };
    case 'delete-ack':
      return { type: 'delete-ack', reqId: reqId(m.reqId), deleted: bool(m.deleted, 'deleted') };
    case 'peers': {
      if (!Array.isArray(m.peers) || m.peers.length > MAX_PEER_ADDRS) fail('peers');
      const peers: PeerAddr[] = [];
      for (const p of m.peers as unknown[]) {
        if (typeof p !== 'object' || p === null) continue;
        const { id, addr } = p as Record<string, unknown>;
        // the transport's own rules for a HELLO, so one function decides what a peer may announce
        if (isNodeId(id) && isPeerAddress(addr)) {
          peers.push({ id, addr });
        }
      }
      return { type: 'peers', peers };
    }
    case 'integrity-report':
      return { type: 'integrity-report', ns: hex64(m.ns, 'ns'), id: hex64(m.id, 'id') };
    case 'list-request':
      return { type: 'list-request', reqId: reqId(m.reqId), ns: hex64(m.ns, 'ns') };
    default: {
      const repair = parseRepairMessage(m) ?? parseCatalogMessage(m);
      if (repair) return repair;
      fail(`unknown type ${describeType(m.type)}`);
    }
  }
}

/** Checks the header of a stream opened by a peer. */
export function parseStreamHeader(raw: unknown): StreamHeader {
  const m = obj(raw);
  switch (m.type) {
    case 'store-offer': {
      const offer: StoreOffer = {
        type: 'store-offer',
        reqId: reqId(m.reqId),
        ns: hex64(m.ns, 'ns'),
        id: hex64(m.id, 'id'),
        extra: m.extra === undefined ? {} : extra(m.extra),
      };
      if (m.digest !== undefined) offer.digest = hex64(m.digest, 'digest');
      if (m.size !== undefined) offer.size = uint(m.size, 'size');
      if (m.chain !== undefined) {
        if (offer.digest !== undefined) fail('a chain offer carries its digest in a store-commit');
        offer.chain = nodeIds(m.chain, 'chain');
      }
      return offer;
    }
    case 'get-response': {
      if (m.found !== true) fail('a get-response stream must be found');
      const out: GetResponse = {
        type: 'get-response',
        reqId: reqId(m.reqId),
        found: true,
        size: uint(m.size, 'size'),
        digest: hex64(m.digest, 'digest'),
        extra: m.extra === undefined ? {} : extra(m.extra),
      };
      if (m.range !== undefined) out.range = plainRange(m.range);
      return out;
    }
    case 'list-response':
      return { type: 'list-response', reqId: reqId(m.reqId) };
    default:
      fail(`unknown stream type ${describeType(m.type)}`);
  }
}

/** Checks one line of a peer's list-response body (JSON text). */
export function parseListLine(text: string): ListLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('list line is not JSON');
  }
  const m = obj(raw);
  return {
    id: hex64(m.id, 'id'),
    size: uint(m.size, 'size'),
    digest: hex64(m.digest, 'digest'),
    createdAt: uint(m.createdAt, 'createdAt'),
    extra: m.extra === undefined ? {} : extra(m.extra),
  };
}
