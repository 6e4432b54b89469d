import { decodeMessage, encodeMessage } from '@peerstash/transport-tcp';
import { describe, expect, it } from 'vitest';
import { type CatalogMessage, MAX_RECORDS, parseCatalogMessage } from './messages.js';
import { MAX_RECORD_BYTES } from './record.js';

const H = 'a'.repeat(64);
const roundTrip = (m: Record<string, unknown>) =>
  parseCatalogMessage(decodeMessage(encodeMessage(m as never)));
const protocol = expect.objectContaining({ code: 'ERR_PROTOCOL' });

describe('catalog messages', () => {
  it('parses every message shape after a trip through the wire codec', () => {
    const list = Buffer.alloc(80, 1);
    const shapes: CatalogMessage[] = [
      { type: 'catalog-push', reqId: 'r1', records: [Buffer.from([1, 2, 3])] },
      { type: 'catalog-push-ack', reqId: 'r1', results: ['applied', 'kept', 'ERR_STALE_RECORD'] },
      { type: 'catalog-roots', reqId: 'r2' },
      {
        type: 'catalog-roots-reply',
        reqId: 'r2',
        roots: [{ ns: H, root: Buffer.alloc(12, 7), pruned: 1_700_000_000_000 }],
      },
      {
        type: 'catalog-summary',
        reqId: 'r3',
        ns: H,
        prefixes: ['', 'ab', 'abcd'],
        root: Buffer.alloc(12),
      },
      {
        type: 'catalog-summary-reply',
        reqId: 'r3',
        ok: true,
        parts: [
          { prefix: '', count: 5, same: true },
          { prefix: 'ab', count: 2, list },
          { prefix: 'cd', count: 999, hashes: Buffer.alloc(2048), counts: Buffer.alloc(1024) },
        ],
      },
      { type: 'catalog-fetch', reqId: 'r4', ns: H, ids: [H, 'b'.repeat(64)] },
      { type: 'catalog-fetch-reply', reqId: 'r4', records: [] },
    ];
    for (const m of shapes) expect(roundTrip(m)).toEqual(m);
  });

  it('leaves other types to the other parsers', () => {
    expect(parseCatalogMessage({ type: 'store-ack' })).toBeUndefined();
  });

  it('refuses malformed fields with ERR_PROTOCOL', () => {
    const bad: Array<Record<string, unknown>> = [
      { type: 'catalog-push', reqId: 'r', records: 'x' },
      { type: 'catalog-push', reqId: 'r', records: Array(MAX_RECORDS + 1).fill(Buffer.alloc(1)) },
      { type: 'catalog-push', reqId: 'r', records: [Buffer.alloc(MAX_RECORD_BYTES + 1)] },
      { type: 'catalog-push', reqId: 'bad id!', records: [] },
      { type: 'catalog-push-ack', reqId: 'r', results: ['has space'] },
      {
        type: 'catalog-roots-reply',
        reqId: 'r',
        roots: [{ ns: 'x', root: Buffer.alloc(12), pruned: 0 }],
      },
      {
        type: 'catalog-roots-reply',
        reqId: 'r',
        roots: [{ ns: H, root: Buffer.alloc(11), pruned: 0 }],
      },
      {
        type: 'catalog-roots-reply',
        reqId: 'r',
        roots: [{ ns: H, root: Buffer.alloc(12), pruned: -1 }],
      },
      { type: 'catalog-summary', reqId: 'r', ns: H, prefixes: ['abc'] },
      { type: 'catalog-summary', reqId: 'r', ns: H, prefixes: Array(33).fill('') },
      {
        type: 'catalog-summary-reply',
        reqId: 'r',
        ok: true,
        parts: [{ prefix: '', count: 1, list: Buffer.alloc(41) }],
      },
      {
        type: 'catalog-summary-reply',
        reqId: 'r',
        ok: true,
        parts: [{ prefix: '', count: 1, hashes: Buffer.alloc(8), counts: Buffer.alloc(4) }],
      },
      { type: 'catalog-fetch', reqId: 'r', ns: H, ids: ['A'.repeat(64)] },
      { type: 'catalog-fetch-reply', reqId: 'r', records: [42] },
    ];
    for (const m of bad)
      expect(() => parseCatalogMessage(m), JSON.stringify(m).slice(0, 80)).toThrow(protocol);
  });
});
