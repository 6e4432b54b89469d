import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('metrics', () => {
  it('two servers in one process keep separate registries', async () => {
    let peers = 2;
    const a = createMetrics(() => peers);
    const b = createMetrics(() => 7, false);
    a.puts.inc({ result: 'ok' });
    a.bytesIn.inc({ via: 'api' }, 100);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toMatch(/peerstash_puts_total\{result="ok"\} 1/);
    expect(textA).toMatch(/peerstash_bytes_in_total\{via="api"\} 100/);
    expect(textA).toMatch(/peerstash_peers 2/);
    expect(textA).toMatch(/peerstash_process_resident_memory_bytes/);
    expect(textB).not.toMatch(/peerstash_puts_total\{/);
    expect(textB).toMatch(/peerstash_peers 7/);
    peers = 3;
    expect(await a.registry.metrics()).toMatch(/peerstash_peers 3/);
  });
});
