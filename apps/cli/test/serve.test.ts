// `peerstash serve` end-to-end: what stops it from starting, and the addresses peers learn.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_PATH, startNode, waitForPeers } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli } from './helpers.js';
import { useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('serve');

/** A loopback port nothing listens on: bound, then freed. */
async function freePort(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('serve refuses to start', () => {
  it('port in use: exit 8 for the peer port and for the API port', async () => {
    const dir = join(c.root, 'busy');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    const peer = await runCli(['serve', '--dir', dir, '--listen', c.a.listen]);
    expect(peer.code).toBe(EXIT.PORT_IN_USE);
    expect(expectOneLine(peer.stderr)).toContain('in use');
    const api = await runCli([
      'serve',
      '--dir',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--api-port',
      String(c.a.client.port),
    ]);
    expect(api.code).toBe(EXIT.PORT_IN_USE);
  });

  it('a second serve on a running data dir: exit 10', async () => {
    const r = await runCli(['serve', '--dir', c.dirA, '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(EXIT.ALREADY_EXISTS);
    expectOneLine(r.stderr);
  });

  it('a stale api.json naming another live node does not block serve', async () => {
    const clone = join(c.root, 'clone');
    await cp(c.dirA, clone, { recursive: true });
    await rm(join(clone, 'blobs'), { recursive: true, force: true });
    // Same token and api.json as A (a copied dir after a crash), but its own node id.
    await writeFile(
      join(clone, 'node.json'),
      JSON.stringify({ nodeId: 'ab'.repeat(32), listen: '127.0.0.1:0' }),
    );
    const child = spawn(process.execPath, [BIN_PATH, 'serve', '--dir', clone], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const started = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('"msg":"node started"')) resolve();
      });
    });
    const exited = once(child, 'close');
    await Promise.race([started, exited]);
    expect(child.exitCode, out).toBeNull();
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('serve on a dir that was never initialised: exit 9', async () => {
    const r = await runCli(['serve', '--dir', join(c.root, 'never')]);
    expect(r.code).toBe(EXIT.NOT_INITIALISED);
    expect(expectOneLine(r.stderr)).toContain('peerstash init');
  });

  it('bad bootstrap address: exit 2', async () => {
    const r = await runCli(['serve', '--dir', c.dirA, '--bootstrap', 'nohost']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(expectOneLine(r.stderr)).toContain('bootstrap');
  });
});

describe('serve: the address peers learn', () => {
  it('--advertise is what peers learn; without it serve warns', async () => {
    const port = await freePort();
    const dir = join(c.root, 'wide');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    const wide = await startNode({
      dir,
      listen: `0.0.0.0:${port}`,
      args: ['--advertise', `127.0.0.1:${port}`, '--bootstrap', c.a.listen],
      timeoutMs: 30_000,
    });
    try {
      await waitForPeers([wide], 1, 30_000);
      // A learnt the wide node by its advertised address, not 0.0.0.0.
      let seen: unknown[] = [];
      for (let i = 0; i < 100; i++) {
        const st = await c.a.client.status();
        seen = (st.peers as Array<{ listenAddr?: string }>).map((p) => p.listenAddr);
        if (seen.includes(`127.0.0.1:${port}`)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).toContain(`127.0.0.1:${port}`);
      expect(wide.stdout()).not.toContain('nothing to advertise');
    } finally {
      expect(await wide.stop()).toBe(0);
    }
    const bare = await startNode({ dir, listen: '0.0.0.0:0', timeoutMs: 30_000 });
    try {
      // The warning follows start(), which may finish just after the API first answers.
      for (let i = 0; i < 100 && !bare.stdout().includes('"node started"'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(bare.stdout()).toContain('nothing to advertise');
    } finally {
      await bare.stop();
    }
  });

  it('announcing loopback while bootstrapping to another machine: a warning at start', async () => {
    const dir = join(c.root, 'loop');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    // A holds this peer port, so start fails (exit 8) right after the warning: nothing is dialled.
    const r = await runCli([
      'serve',
      '--dir',
      dir,
      '--listen',
      c.a.listen,
      '--bootstrap',
      '10.0.0.1:7400',
    ]);
    expect(r.code).toBe(EXIT.PORT_IN_USE);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(
      new RegExp(
        `^this node announces ${c.a.listen}, a loopback address, but links to peers on other machines \\(10\\.0\\.0\\.1:7400\\)`,
      ),
    );
    expect(warning).toMatchObject({ announced: c.a.listen, peers: ['10.0.0.1:7400'] });
    // B was started with loopback addresses only: no start warning (the node's own status
    // warning, LOOPBACK_ADVERTISE, may come later from a peer that advertised a TEST-NET address)
    const atStart = c.b
      .stdout()
      .split('\n')
      .filter((l) => l.includes('a loopback address') && !l.includes('LOOPBACK_ADVERTISE'));
    expect(atStart).toEqual([]);
  });
});
