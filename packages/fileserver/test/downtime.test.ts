import { readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileServer, readLastAlive } from '../src/index.js';
import { startNode, tempDir } from './helpers.js';

const DAY = 86_400_000;

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

describe('downtime and the tombstone TTL', () => {
  const dirs: string[] = [];
  const nodes: FileServer[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a first start knows no downtime; a stop leaves a fresh last-alive mark', async () => {
    const dir = await tempDir('alive');
    dirs.push(dir);
    const n = await startNode({ dataDir: dir });
    nodes.push(n);
    const st = await n.status();
    expect(st.offlineBeforeStartMs).toBeNull();
    expect(st.tombstonesMayBeMissed).toBe(false);
    const before = Date.now();
    await n.stop();
    expect(await readLastAlive(dir)).toBeGreaterThanOrEqual(before);
    // a damaged mark is treated as unknown, not as a reason to refuse to start
    await writeFile(join(dir, 'last-alive'), 'garbage\n');
    expect(await readLastAlive(dir)).toBeUndefined();
  });

  it('down longer than the TTL: status says so and the node warns; within it, all is quiet', async () => {
    const dir = await tempDir('away');
    dirs.push(dir);
    await writeFile(join(dir, 'last-alive'), `${Date.now() - 8 * DAY}\n`);
    const log = capture();
    const away = await startNode({ dataDir: dir, logger: log.logger });
    nodes.push(away);
    const st = await away.status();
    expect(st.offlineBeforeStartMs).toBeGreaterThanOrEqual(8 * DAY - 60_000);
    expect(st.tombstonesMayBeMissed).toBe(true);
    const warned = log.lines.find((l) => String(l.msg).includes('longer than the tombstone TTL'));
    expect(warned).toMatchObject({ offlineDays: 8, tombstoneTtlDays: 7 });
    // the mark is refreshed at start
    expect(Number((await readFile(join(dir, 'last-alive'), 'utf8')).trim())).toBeGreaterThan(
      Date.now() - DAY,
    );
    await away.stop();

    const dir2 = await tempDir('away-ok');
    dirs.push(dir2);
    await writeFile(join(dir2, 'last-alive'), `${Date.now() - 8 * DAY}\n`);
    const log2 = capture();
    const kept = await startNode({ dataDir: dir2, logger: log2.logger, tombstoneTtlMs: 30 * DAY });
    nodes.push(kept);
    expect((await kept.status()).tombstonesMayBeMissed).toBe(false);
    expect(log2.lines.filter((l) => String(l.msg).includes('tombstone TTL'))).toEqual([]);
  });

  it('a start that fails keeps the downtime it found for the next one to report', async () => {
    const dir = await tempDir('failed-start');
    dirs.push(dir);
    const long = Date.now() - 10 * DAY;
    await writeFile(join(dir, 'last-alive'), `${long}\n`);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startNode({ dataDir: dir, listen: `127.0.0.1:${port}` })).rejects.toBeDefined();
    } finally {
      blocker.close();
    }
    expect(await readLastAlive(dir)).toBe(long);
    const n = await startNode({ dataDir: dir });
    nodes.push(n);
    expect((await n.status()).tombstonesMayBeMissed).toBe(true);
  });
});
