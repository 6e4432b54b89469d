// `peerstash serve` and signals: clean stops on SIGTERM/SIGINT (also mid-put and during start),
// the end of stdin for supervisors, and SIGHUP, which a running node logs and ignores.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN_PATH, startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, sha256File, walk } from './helpers.js';
import { useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('signals');

describe('serve lifecycle', () => {
  it('SIGTERM and SIGINT: exit 0, api.json removed, no temp files, logs are JSON lines', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dir = join(c.root, `life-${signal}`);
      expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
      const n = await startNode({ dir, args: ['--bootstrap', c.a.listen], timeoutMs: 30_000 });
      const put = await runCli(['put', c.input, '--key', `life-${signal}`, '--dir', dir]);
      expect(put.code).toBe(0);
      expect(await n.stop(signal)).toBe(0);
      await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await walk(dir)).filter((f) => /\.tmp$|\.part$|tmp-/.test(f))).toEqual([]);
      const lines = n.stdout().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const msgs = lines.map((l) => JSON.parse(l).msg);
      expect(msgs).toContain('node started');
      expect(msgs).toContain('stopped');
      // Restarted, the node still has the file and the same id.
      const again = await startNode({ dir, timeoutMs: 30_000 });
      try {
        const st = await again.client.status();
        expect(st.nodeId).toBe(JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')).nodeId);
        expect(await again.client.has(`life-${signal}`)).toBe(true);
      } finally {
        expect(await again.stop()).toBe(0);
      }
    }
  });

  it('SIGTERM mid-put: the node exits 0 leaving no temp file, the put fails with one line', async () => {
    const dir = join(c.root, 'midput');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    const put = spawn(process.execPath, [BIN_PATH, 'put', '-', '--key', 'slow', '--dir', dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    put.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    put.stdin.on('error', () => {});
    const putClosed = once(put, 'close');
    // A stream that never ends: a few MiB go in, then the node is told to stop.
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 4; i++) {
      if (!put.stdin.write(chunk)) await once(put.stdin, 'drain');
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await n.stop('SIGTERM')).toBe(0);
    put.stdin.destroy();
    const [code] = await putClosed;
    expect(code, err).toBe(EXIT.NODE_NOT_RUNNING);
    expect(expectOneLine(err)).toContain('closed the connection');
    expect((await walk(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a signal during start still ends in a clean stop (exit 0, no api.json)', async () => {
    const dir = join(c.root, 'early');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BIN_PATH, 'serve', '--dir', dir, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    // Wait for the first log line: the node is inside start() by then, or just past it.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    expect(code, out).toBe(0);
    await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('--exit-with-parent: the end of stdin stops the node cleanly', async () => {
    const dir = join(c.root, 'orphan');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    const n = await startNode({ dir, timeoutMs: 30_000 });
    const exited = once(n.child, 'exit');
    n.child.stdin?.end();
    const [code] = await exited;
    expect(code).toBe(0);
    await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('SIGHUP is logged and ignored: the node keeps serving', async () => {
    const dir = join(c.root, 'hup');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA])).code).toBe(0);
    const n = await startNode({ dir, args: ['--bootstrap', c.a.listen], timeoutMs: 30_000 });
    try {
      for (let i = 0; i < 100 && !n.stdout().includes('"node started"'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      n.child.kill('SIGHUP');
      for (let i = 0; i < 100 && !n.stdout().includes('SIGHUP ignored'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(n.stdout()).toContain('"msg":"SIGHUP ignored: logs go to stdout"');
      expect(n.running).toBe(true);
      const put = await runCli(['put', c.input, '--key', 'after-hup', '--dir', dir]);
      expect(put.code, put.stderr).toBe(0);
      const out = join(c.root, 'after-hup.bin');
      expect((await runCli(['get', 'after-hup', '-o', out, '--dir', dir])).code).toBe(0);
      expect(await sha256File(out)).toBe(c.inputSha);
    } finally {
      expect(await n.stop()).toBe(0);
    }
  });
});
