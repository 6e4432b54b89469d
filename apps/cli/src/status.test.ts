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
      /^warning\s+down 8\.0 days before this start, longer than the tombstone TTL: files deleted meanwhile are held back here, not listed or spread \(see "peerstash quarantine"\)$/m,
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

  it("prints the node's advertise address and its warnings, not a guess of its own", () => {
    const out = formatStatus(
      {
        ...base,
        advertise: '203.0.113.7:7400',
        warnings: [{ code: 'LOOPBACK_LISTEN', message: 'listens on loopback only' }],
        peers: [{ id: 'cd'.repeat(32), listenAddr: '10.0.0.1:7400', outbound: true }],
      },
      '/d',
      'http://x',
    );
    expect(out).toMatch(/^advertise\s+203\.0\.113\.7:7400$/m);
    expect(out.match(/^warning.*$/gm)).toEqual(['warning    listens on loopback only']);
    // a node reporting no warnings gets none added here, even with loopback and an outside peer
    const none = formatStatus(
      { ...base, warnings: [], peers: [{ id: 'cd'.repeat(32), remoteAddr: '10.0.0.1:5000' }] },
      '/d',
      'http://x',
    );
    expect(none).not.toContain('warning');
  });
});
