// Forged HELLOs against plain-TCP nodes: a flood of made-up peers is never saved, passed on or
// allowed to push a real peer out, and an impostor claiming a linked peer's id cuts nothing.

import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { forgeHello, helloFlood } from './forged-hello.js';
import { pattern, patternSha, sha256Of, startNode, tempDir, waitFor } from './helpers.js';

const ZERO_NONCE = '0000000000000000';
const opened: FileServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((n) => n.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A plain-TCP node (no cluster secret) of one vault, with its log lines kept. */
async function plainNode(
  vaultKey: Buffer,
  opts: {
    dataDir?: string;
    bootstrap?: string[];
    transportLimits?: { handshakeTimeoutMs: number };
  } = {},
) {
  const dataDir = opts.dataDir ?? (await tempDir('forged'));
  if (!opts.dataDir) dirs.push(dataDir);
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const node = await startNode({
    dataDir,
    vaultKey,
    logger,
    bootstrap: opts.bootstrap ?? [],
    ...(opts.transportLimits ? { transportLimits: opts.transportLimits } : {}),
  });
  opened.push(node);
  return { node, dataDir, lines };
}

async function savedPeers(dataDir: string): Promise<Array<{ id: string; addr: string }>> {
  return JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8')).peers ?? [];
}

const linkedTo = async (a: FileServer, b: FileServer) =>
  (await a.status()).peers.some((p) => p.id === b.nodeId);

describe('a forged-HELLO flood on a plain-TCP node', () => {
  it('leaves node.json with only the real peer, and the node finds it again after a restart', async () => {
    const vaultKey = randomBytes(32);
    const b = await plainNode(vaultKey);
    const a = await plainNode(vaultKey, { bootstrap: [b.node.address!] });
    await waitFor('a and b linked', async () => linkedTo(a.node, b.node));
    const real = [{ id: b.node.nodeId, addr: b.node.address! }];
    await waitFor('b saved', async () => (await savedPeers(a.dataDir)).length === 1);

    // what the fuzzer sent: thousands of HELLOs with ids and addresses that pass every check
    const linked = await helloFlood(a.node.address!, 3000);
    expect(linked).toBeGreaterThan(2500); // the node did open links for them
    await new Promise((r) => setTimeout(r, 1500)); // past the save delay
    expect(await savedPeers(a.dataDir)).toEqual(real);
    const st = await a.node.status();
    expect(st.knownPeers).toBeLessThanOrEqual(256);
    expect(st.peers.map((p) => p.id)).toEqual([b.node.nodeId]);
    // nothing of the flood reached b by peer exchange either
    expect((await b.node.status()).knownPeers).toBe(1);
    expect(await savedPeers(b.dataDir)).toEqual([{ id: a.node.nodeId, addr: a.node.address! }]);

    await a.node.stop();
    expect(await savedPeers(a.dataDir)).toEqual(real);
    // no bootstrap: only node.json can lead it back to b
    const again = await plainNode(vaultKey, { dataDir: a.dataDir });
    await waitFor('a rejoined b', async () => linkedTo(again.node, b.node), 20_000);
    expect(again.lines.filter((l) => l.msg === 'cannot dial peer')).toEqual([]);
    await again.node.store('after-flood', pattern('after-flood', 300_000));
    expect(await sha256Of(await b.node.get('after-flood'))).toBe(
      await patternSha('after-flood', 300_000),
    );
  });

  it('a node.json filled with junk by an older version is cleaned on start', async () => {
    const vaultKey = randomBytes(32);
    const b = await plainNode(vaultKey);
    const a = await plainNode(vaultKey, { bootstrap: [b.node.address!] });
    await waitFor('b saved', async () => (await savedPeers(a.dataDir)).length === 1);
    await a.node.stop();
    const { writeFile } = await import('node:fs/promises');
    const file = JSON.parse(await readFile(join(a.dataDir, 'node.json'), 'utf8'));
    file.peers = [
      { id: 'zz'.repeat(32), addr: '127.0.0.1:1' },
      { id: randomBytes(32).toString('hex'), addr: '!27.0.0.1:47401' },
      ...file.peers,
    ];
    await writeFile(join(a.dataDir, 'node.json'), JSON.stringify(file));
    const again = await plainNode(vaultKey, { dataDir: a.dataDir });
    await waitFor('a rejoined b', async () => linkedTo(again.node, b.node), 20_000);
    await waitFor('junk dropped', async () => (await savedPeers(a.dataDir)).length === 1);
    expect(await savedPeers(a.dataDir)).toEqual([{ id: b.node.nodeId, addr: b.node.address! }]);
  });
});

/** The pattern, 256 KiB every `everyMs`: a transfer that is surely under way for a while. */
async function* paced(seed: string, size: number, everyMs: number): AsyncGenerator<Uint8Array> {
  for await (const piece of pattern(seed, size)) {
    await new Promise((r) => setTimeout(r, everyMs));
    yield piece;
  }
}

async function peerBytesOut(node: FileServer): Promise<number> {
  const m = await node.metrics.bytesOut.get();
  return m.values.find((v) => v.labels.via === 'peer')?.value ?? 0;
}

describe('an impostor HELLO claiming a linked peer’s id (nonce 0000000000000000)', () => {
  it('does not drop the active link, while it carries a transfer or idle', async () => {
    const vaultKey = randomBytes(32);
    // a short handshake timeout: an idle link counts as established 2 s after it opened
    const transportLimits = { handshakeTimeoutMs: 2000 };
    const a = await plainNode(vaultKey, { transportLimits });
    // b dials a: whichever id is lower, a zero nonce outranked this link under the old tie-break
    const b = await plainNode(vaultKey, { bootstrap: [a.node.address!], transportLimits });
    await waitFor(
      'linked',
      async () => (await linkedTo(a.node, b.node)) && linkedTo(b.node, a.node),
    );
    const linkedAt = Date.now();
    const before = (await a.node.status()).peers;
    const impostor = () =>
      forgeHello(a.node.address!, {
        id: b.node.nodeId,
        listen: b.node.address!,
        nonce: ZERO_NONCE,
      });

    const size = 24 * 1024 * 1024;
    const storing = a.node.store('big', paced('big', size, 20));
    await waitFor('transfer under way', async () => (await peerBytesOut(a.node)) > 1024 * 1024);
    expect(await impostor()).toEqual({ linked: false, goaway: 'ERR_DUPLICATE_CONNECTION' });
    expect((await storing).replicas).toBe(1);

    await new Promise((r) => setTimeout(r, Math.max(0, linkedAt + 2100 - Date.now())));
    expect(await impostor()).toEqual({ linked: false, goaway: 'ERR_DUPLICATE_CONNECTION' });

    expect((await a.node.status()).peers).toEqual(before);
    for (const n of [a, b]) {
      expect(n.lines.filter((l) => l.msg === 'peer disconnected')).toEqual([]);
    }
    expect(await sha256Of(await b.node.get('big'))).toBe(await patternSha('big', size));
  });
});
