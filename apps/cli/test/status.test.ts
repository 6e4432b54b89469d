// `peerstash status` end-to-end: what a running node reports, and a node that is not there.

import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNode, waitForPeers } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli } from './helpers.js';
import { useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('status');

describe('status', () => {
  it('shows id, addresses and the peer', async () => {
    const json = await runCli(['status', '--json', '--dir', c.dirB]);
    expect(json.code).toBe(0);
    const st = JSON.parse(json.stdout);
    expect(st.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(st.peers).toHaveLength(1);
    const human = await runCli(['status', '--dir', c.dirB]);
    expect(human.stdout).toContain(st.nodeId);
    expect(human.stdout).toMatch(/peers\s+1/);
    expect(human.stdout).toContain('TLS-PSK');
    expect(human.stdout).toMatch(/repair\s+\d+ keys? held, \d+ under-replicated/);
    // what the repair line counts agrees with the blobs line, round or no round
    expect(human.stdout).toContain(`repair     ${st.keysHeld} key`);
    expect(st.keysHeld).toBe(st.blobs);
    expect(human.stdout).toMatch(/scrub\s+no pass yet, 0 rotten copies found/);
    // every address here is loopback: nothing to warn about
    expect(human.stdout).not.toContain('warning');
  });

  it('PEERSTASH_DIR finds the node', async () => {
    const r = await runCli(['status', '--json'], { env: { PEERSTASH_DIR: c.dirA } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).listen).toBe(c.a.listen);
  });

  it('node not running (stale api.json): exit 3 naming serve', async () => {
    const dir = join(c.root, 'stale');
    expect((await runCli(['init', '--dir', dir])).code).toBe(0);
    // An address nothing listens on: bind a port, then free it.
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    await writeFile(
      join(dir, 'api.json'),
      JSON.stringify({ url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port }),
    );
    const r = await runCli(['status', '--dir', dir]);
    expect(r.code).toBe(EXIT.NODE_NOT_RUNNING);
    expect(expectOneLine(r.stderr)).toContain('peerstash serve');
  });

  it("shows the node's advertise address and its own warnings: loopback announced, loopback bound", async () => {
    const a = JSON.parse((await runCli(['status', '--json', '--dir', c.dirA])).stdout);
    expect(a.advertise).toBe(c.a.listen);
    expect(a.warnings).toEqual([]);
    // C binds loopback but announces an outside address (TEST-NET-3: nobody answers there)
    const dirC = join(c.root, 'c');
    expect((await runCli(['init', '--dir', dirC, '--join', join(c.dirA, 'keys.json')])).code).toBe(
      0,
    );
    const outside = '203.0.113.77:7499';
    const node = await startNode({
      dir: dirC,
      args: ['--advertise', outside, '--bootstrap', c.a.listen],
      timeoutMs: 30_000,
    });
    try {
      await waitForPeers([node], 1, 30_000);
      const st = JSON.parse((await runCli(['status', '--json', '--dir', dirC])).stdout);
      expect(st.listen).toBe(node.listen);
      expect(st.advertise).toBe(outside);
      expect(st.warnings.map((w: { code: string }) => w.code)).toEqual(['LOOPBACK_LISTEN']);
      const human = (await runCli(['status', '--dir', dirC])).stdout;
      expect(human).toMatch(new RegExp(`^advertise\\s+${outside}$`, 'm'));
      expect(human).toMatch(
        new RegExp(
          `^warning\\s+this node listens on ${node.listen} only \\(loopback\\) but announces ${outside}`,
          'm',
        ),
      );
      expect(node.stdout()).toContain('"code":"LOOPBACK_LISTEN"');

      // A announces loopback and now links to a peer that says it lives on another machine
      let warnings: Array<{ code: string; peers?: string[] }> = [];
      for (let i = 0; i < 100 && warnings.length === 0; i++) {
        warnings = JSON.parse(
          (await runCli(['status', '--json', '--dir', c.dirA])).stdout,
        ).warnings;
        if (warnings.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(warnings).toMatchObject([{ code: 'LOOPBACK_ADVERTISE', peers: [outside] }]);
      const humanA = (await runCli(['status', '--dir', c.dirA])).stdout;
      expect(humanA).toMatch(
        new RegExp(
          `^warning\\s+this node announces ${c.a.listen}, a loopback address, but links to peers on other machines \\(${outside}\\)`,
          'm',
        ),
      );
      expect(c.a.stdout()).toContain('"code":"LOOPBACK_ADVERTISE"');
    } finally {
      expect(await node.stop()).toBe(0);
    }
    // the warning lasts while the link does
    let after = [{}];
    for (let i = 0; i < 100 && after.length > 0; i++) {
      after = JSON.parse((await runCli(['status', '--json', '--dir', c.dirA])).stdout).warnings;
      if (after.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(after).toEqual([]);
  });
});
