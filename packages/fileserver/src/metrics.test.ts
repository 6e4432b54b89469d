import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

/** `promtool check metrics` on `text`: its exit code and complaints; undefined when not installed. */
function promtool(text: string): { status: number | null; out: string } | undefined {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

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

  it('follows the Prometheus naming rules: _total on counters only (promtool check metrics)', async () => {
    const m = createMetrics(() => 1);
    m.transferDuration.observe({ op: 'get' }, 0.2);
    const text = await m.registry.metrics();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({
      name: name!,
      type: type!,
    }));
    expect(types.length).toBeGreaterThan(20);
    for (const { name, type } of types) {
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
    }
    // the per-type gauges stay; their sum is what the dropped *_total gauges reported
    expect(text).toMatch(/^# TYPE peerstash_nodejs_active_handles gauge$/m);
    expect(text).not.toMatch(/peerstash_nodejs_active_\w+_total/);
    const checked = promtool(text);
    // CI installs promtool (Debian's prometheus package); there it must run.
    if (process.env.CI) expect(checked, 'promtool is not installed').toBeDefined();
    if (checked) expect(checked, checked.out).toMatchObject({ status: 0 });
  });
});
