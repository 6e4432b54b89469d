import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatDate } from '../format';
import { parseRoute, routeHash } from '../route';
import { parseMetrics, RateHistory, total } from './metrics';
import { clusterRows, type SeenNode } from './nodes';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('cluster page data', () => {
  it('parses the Prometheus text of a node and sums byte counters', () => {
    const text = [
      '# HELP peerstash_bytes_in_total Bytes received',
      '# TYPE peerstash_bytes_in_total counter',
      'peerstash_bytes_in_total{via="api"} 1000',
      'peerstash_bytes_in_total{via="peer"} 24',
      'peerstash_bytes_out_total 5e3',
      'peerstash_odd{path="a\\"b"} 1',
      'garbage line',
      'peerstash_nan NaN',
    ].join('\n');
    const s = parseMetrics(text);
    expect(total(s, 'peerstash_bytes_in_total')).toBe(1024);
    expect(total(s, 'peerstash_bytes_in_total', 'via', 'peer')).toBe(24);
    expect(total(s, 'peerstash_bytes_out_total')).toBe(5000);
    expect(s.find((x) => x.name === 'peerstash_odd')?.labels.path).toBe('a"b');
    expect(s.some((x) => x.name === 'peerstash_nan')).toBe(false);
  });

  it('turns counter readings into rates, starting over after a counter reset', () => {
    const h = new RateHistory(3);
    h.push(1000, 0, 0);
    h.push(2000, 2048, 1024);
    h.push(4000, 4096, 1024);
    expect(h.points).toEqual([
      { at: 2000, in: 2048, out: 1024 },
      { at: 4000, in: 1024, out: 0 },
    ]);
    h.push(5000, 10, 10); // the node restarted: no negative rate
    h.push(6000, 20, 30);
    h.push(7000, 30, 50);
    expect(h.points).toHaveLength(3);
    expect(h.points[2]).toEqual({ at: 7000, in: 10, out: 20 });
  });

  it('marks a node seen before and gone now as offline, and back when it returns', () => {
    const seen = new Map<string, SeenNode>();
    const self = { nodeId: A, listen: '127.0.0.1:1' };
    const peerB = { id: B, listenAddr: '127.0.0.1:2', outbound: true };
    const peerC = { id: C, remoteAddr: '127.0.0.1:9', outbound: false };
    let rows = clusterRows(self, [peerB, peerC], [], seen, 100);
    expect(rows.map((r) => [r.id[0], r.online, r.self])).toEqual([
      ['a', true, true],
      ['b', true, false],
      ['c', true, false],
    ]);
    expect(rows[2]).toMatchObject({ address: '127.0.0.1:9', direction: 'in' });
    rows = clusterRows(self, [peerB], [], seen, 200);
    expect(rows[2]).toMatchObject({ id: C, online: false, lastSeenAt: 100 });
    rows = clusterRows(self, [peerB, peerC], [], seen, 300);
    expect(rows.every((r) => r.online)).toBe(true);
  });

  it('lists peers the node met before (node.json) as offline until they connect', () => {
    const rows = clusterRows(
      { nodeId: A, listen: 'x' },
      [],
      [
        { id: B, addr: '10.0.0.2:7' },
        { id: A, addr: 'x' },
      ],
      new Map(),
      1,
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ id: B, online: false, address: '10.0.0.2:7' });
  });

  it('formats sizes, dates and ages, and round-trips routes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatDate(0)).toBe('—');
    expect(formatDate(new Date(2026, 0, 2, 3, 4).getTime())).toBe('2026-01-02 03:04');
    expect(formatAgo(null)).toBe('never');
    expect(formatAgo(1000, 31_000)).toBe('30 s ago');
    for (const r of [{ page: 'cluster' as const }, { page: 'files' as const, prefix: 'a b/#?/' }]) {
      expect(parseRoute(routeHash(r))).toEqual(r);
    }
    expect(parseRoute('#/files/%E0%A4%A')).toEqual({ page: 'files', prefix: '' });
    expect(parseRoute('')).toEqual({ page: 'files', prefix: '' });
  });
});
