import { describe, expect, it } from 'vitest';
import { formatStatus } from './commands/status.js';

const base = { nodeId: 'ab'.repeat(32), listen: '127.0.0.1:7400', peers: [] };

describe('formatStatus', () => {
  it('shows the scrub state: no pass yet, then the last pass', () => {
    expect(formatStatus({ ...base, scrubRotten: 0, lastScrubAt: null }, '/d', 'http://x')).toMatch(
      /^scrub\s+no pass yet, 0 rotten copies found$/m,
    );
    const later = formatStatus(
      { ...base, scrubRotten: 2, lastScrubAt: Date.now() - 2 * 3_600_000 },
      '/d',
      'http://x',
    );
    expect(later).toMatch(/^scrub\s+last pass 2\.0 h ago, 2 rotten copies found$/m);
  });

  it('warns when the node was down longer than the tombstone TTL, and only then', () => {
    const away = formatStatus(
      { ...base, tombstonesMayBeMissed: true, offlineBeforeStartMs: 8 * 86_400_000 },
      '/d',
      'http://x',
    );
    expect(away).toMatch(
      /^warning\s+down 8\.0 days before this start, longer than the tombstone TTL: files deleted meanwhile may come back from this node$/m,
    );
    const back = formatStatus(
      { ...base, tombstonesMayBeMissed: false, offlineBeforeStartMs: 60_000 },
      '/d',
      'http://x',
    );
    expect(back).not.toContain('warning');
  });

  it('warns when the node announces loopback but a peer links from another machine', () => {
    const linked = (remoteAddr: string) =>
      formatStatus(
        {
          ...base,
          peers: [{ id: 'cd'.repeat(32), listenAddr: undefined, remoteAddr, outbound: false }],
        },
        '/d',
        'http://x',
      );
    expect(linked('10.0.0.1:51234')).toMatch(
      /^warning\s+this node announces 127\.0\.0\.1:7400, a loopback address, but links to peers on other machines \(10\.0\.0\.1:51234\)/m,
    );
    expect(linked('127.0.0.1:51234')).not.toContain('warning');
  });
});
