// A delete everywhere racing a put of the same key on another node: the put began before the
// delete and finishes after it. Whichever wins, no node may list the file without a copy to read:
// either the put fails (the delete took its copies) and the file is gone, or it is acknowledged
// and its bytes come back. Before the catalog decided, the blob rules dated the put by its start
// and deleted its copies while the catalog listed it (an acknowledged put lost).
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import type { FileServer } from '../src/index.js';
import { type Cluster, sha256Of, startCluster, waitFor } from './helpers.js';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

it.each([
  [3, 3, false],
  [4, 2, true],
])(
  '%i nodes, R = %i, repair rounds after: %s — a put racing a delete everywhere is refused or readable, never listed without a copy',
  async (nodes, r, repairAfter) => {
    c = await startCluster(nodes, { repairIntervalMs: 0, replicationFactor: r });
    const [a, b] = c.nodes as [FileServer, FileServer, FileServer];
    await waitFor('a full mesh', async () =>
      (await Promise.all(c!.nodes.map((n) => n.status()))).every(
        (s) => s.peers.length === nodes - 1,
      ),
    );
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      const key = `race/${round}`;
      await b.store(key, Readable.from([Buffer.from('v1')]));
      await waitFor('v1 listed on A', async () =>
        (await a.list({ all: true })).some((e) => e.key === key),
      );
      // v2 on B: its first MiB now, the rest once the gate opens
      let open!: () => void;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const first = randomBytes(1 << 20);
      const last = randomBytes(1024);
      const want = createHash('sha256').update(first).update(last).digest('hex');
      const putting = b
        .store(
          key,
          Readable.from(
            (async function* () {
              yield first;
              await gate;
              yield last;
            })(),
          ),
        )
        .then(
          () => 'acknowledged',
          (err: { code?: string }) => err.code ?? 'error',
        );
      // the delete comes once B's own copy of v2 is written, while B still waits for its replicas
      // (and, in the later rounds, a little after)
      const v1 = (await b.stat(key)).digest;
      await new Promise((r) => setTimeout(r, 300));
      open();
      while ((await b.stat(key)).digest === v1) await new Promise((r) => setImmediate(r));
      if (round > 0) await new Promise((r) => setTimeout(r, (round - 1) * 10));
      await a.delete(key, { everywhere: true });
      const outcome = await putting;
      outcomes.push(outcome);
      await new Promise((r) => setTimeout(r, 300));
      // repair rounds must keep what the catalog lists: no copy handed off or deleted for a blob
      // tombstone that dates the put by its start
      if (repairAfter)
        for (let i = 0; i < 2; i++) await Promise.all(c.nodes.map((n) => n.repair()));
      const holders = (await Promise.all(c.nodes.map((n) => n.has(key)))).filter(Boolean).length;
      for (const n of c.nodes) {
        const listed = (await n.list({ all: true })).map((e) => e.key).includes(key);
        if (listed) {
          // listed: it is the newer version, and its bytes can be read from this node
          expect(outcome, `round ${round}: listed after a refused put`).toBe('acknowledged');
          expect(await sha256Of(await n.get(key))).toBe(want);
          if (repairAfter)
            expect(holders, `round ${round}: copies after repair`).toBeGreaterThanOrEqual(r);
        } else if (outcome !== 'acknowledged') {
          expect(outcome).toBe('ERR_DELETED');
        }
      }
      // every node sees the same outcome
      const seen = await Promise.all(
        c.nodes.map(async (n) => (await n.list({ all: true })).some((e) => e.key === key)),
      );
      expect(new Set(seen).size, `round ${round}: nodes disagree: ${outcome} ${seen}`).toBe(1);
    }
    expect(outcomes).toHaveLength(4);
  },
);
