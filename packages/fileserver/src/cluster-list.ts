// Listing a vault across the cluster: each peer streams the blobs it holds in a namespace as JSON
// lines; the asking node keeps the newest version of each file and counts the nodes holding it.

import { StringDecoder } from 'node:string_decoder';
import type { BlobMeta, CasStore } from '@peerstash/cas-store';
import { fail } from './message-fields.js';
import { type Extra, type ListLine, parseListLine } from './messages.js';

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

/** The version a line describes, for ordering: the writer's put time, else the commit time. */
function versionOf(l: ListLine): number {
  return typeof l.extra.putAt === 'number' ? l.extra.putAt : l.createdAt;
}

/** Keeps the newest version of each file seen and how many nodes hold exactly that version. */
export class ListMerge {
  readonly #files = new Map<string, { line: ListLine; copies: number }>();

  add(line: ListLine): void {
    const cur = this.#files.get(line.id);
    if (!cur) {
      this.#files.set(line.id, { line, copies: 1 });
      return;
    }
    if (cur.line.digest === line.digest) {
      cur.copies++;
      return;
    }
    const a = versionOf(line);
    const b = versionOf(cur.line);
    if (a > b || (a === b && line.digest > cur.line.digest)) {
      this.#files.set(line.id, { line, copies: 1 });
    }
  }

  values(): IterableIterator<{ line: ListLine; copies: number }> {
    return this.#files.values();
  }
}
