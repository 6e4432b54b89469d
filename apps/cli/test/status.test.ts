// `peerstash status` end-to-end: what a running node reports, and a node that is not there.

import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    expect(human.stdout).toMatch(/repair\s+\d+ keys held, \d+ under-replicated/);
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
});
