// Listing a vault across the cluster: each peer streams the blobs it holds in a namespace as JSON
// lines; the asking node keeps the newest version of each file and counts the nodes holding it.

import { StringDecoder } from 'node:string_decoder';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { fail } from './message-fields.js';
import { type Extra, type ListLine, parseListLine } from './messages.js';
import { blobTime, newer } from './versions.js';

/** Longest list line accepted from a peer (a sealed name is at most a few KiB). */
const MAX_LINE = 64 * 1024;
/** Lines are sent in batches of about this many bytes (each write is a frame). */
const BATCH = 64 * 1024;

export function lineOf(meta: BlobMeta): ListLine {
  return {
    id: meta.key,
    size: meta.size,
    digest: meta.digest,
    createdAt: meta.createdAt,
    extra: (meta.extra ?? {}) as Extra,
  };
}

/** What a node answers to a list-request: its blobs of `ns`, one JSON line each, in batches. */
export async function* listBody(cas: CasStore, ns: string): AsyncGenerator<Buffer> {
  let batch: string[] = [];
  let bytes = 0;
  for await (const meta of cas.list(ns)) {
    const text = `${JSON.stringify(lineOf(meta))}\n`;
    batch.push(text);
    bytes += text.length;
    if (bytes >= BATCH) {
      yield Buffer.from(batch.join(''), 'utf8');
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join(''), 'utf8');
}

/** Parses a list-response body line by line; a line past MAX_LINE or malformed is ERR_PROTOCOL. */
export async function* readListBody(body: AsyncIterable<Buffer>): AsyncGenerator<ListLine> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.write(chunk);
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (text !== '') yield parseListLine(text);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE) fail('list line too long');
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield parseListLine(pending);
}

/** The version a line describes, as repair orders them (see versions.ts). */
export function versionOf(l: ListLine): number {
  return blobTime(l.extra, l.createdAt);
}

/** Keeps the newest version of each file seen and the nodes holding exactly that version. */
export class ListMerge {
  readonly #files = new Map<string, { line: ListLine; holders: Set<string> }>();

  /** `node` holds `line`; the same node saying it twice counts once. */
  add(line: ListLine, node: string): void {
    const cur = this.#files.get(line.id);
    if (!cur) {
      this.#files.set(line.id, { line, holders: new Set([node]) });
      return;
    }
    if (cur.line.digest === line.digest) {
      cur.holders.add(node);
      return;
    }
    // the same rule as repair's, so the listing shows the version repair keeps
    const mine = { id: line.id, v: line.digest, at: versionOf(line) };
    const theirs = { id: line.id, v: cur.line.digest, at: versionOf(cur.line) };
    if (newer(mine, theirs)) this.#files.set(line.id, { line, holders: new Set([node]) });
  }

  *values(): Generator<{ line: ListLine; copies: number }> {
    for (const { line, holders } of this.#files.values()) yield { line, copies: holders.size };
  }
}
