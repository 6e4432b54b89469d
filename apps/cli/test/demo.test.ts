// The demo as CI runs it: the real binary, 3 real `serve` processes, and nothing left behind,
// whether it succeeds or is interrupted part-way.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BIN_PATH } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { runCli } from './helpers.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('peerstash demo', () => {
  it('loses node 1, gets the file back byte-identical, cleans up, exit 0 in under 30 s', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo']);
    const wall = Date.now() - t0;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    for (let i = 1; i <= 7; i++) expect(r.stdout).toContain(`[${i}/7]`);
    expect(r.stdout.match(/byte-identical/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/demo OK: wall time [\d.]+ m?s/);
    expect(wall).toBeLessThan(30_000);
    const root = /under (\S+peerstash-demo-\S+?):/.exec(r.stdout)?.[1];
    expect(root).toBeDefined();
    await expect(stat(root!)).rejects.toMatchObject({ code: 'ENOENT' });
    for (const m of r.stdout.matchAll(/pid (\d+)/g)) expect(alive(Number(m[1]))).toBe(false);
  });

  it('--json reports the steps and the digest', async () => {
    const r = await runCli(['demo', '--json', '--size', '256k']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ ok: true, size: 256 * 1024 });
    expect(res.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(res.steps).toHaveLength(7);
  });

  it('SIGINT part-way: exit 130, nodes stopped, temp dir removed', async () => {
    const child = spawn(process.execPath, [BIN_PATH, 'demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    const closed = once(child, 'close');
    const midway = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c;
        if (out.includes('[2/7]')) resolve();
      });
    });
    await Promise.race([midway, closed]);
    expect(child.exitCode, `the demo ended before step 2: ${out}${err}`).toBeNull();
    child.kill('SIGINT');
    const [code] = await closed;
    expect(code).toBe(EXIT.INTERRUPTED);
    expect(err).toMatch(/^peerstash: interrupted/);
    const root = /under (\S+peerstash-demo-\S+?):/.exec(out)?.[1];
    await expect(stat(root!)).rejects.toMatchObject({ code: 'ENOENT' });
    for (const m of out.matchAll(/pid (\d+)/g)) expect(alive(Number(m[1]))).toBe(false);
  });
});
