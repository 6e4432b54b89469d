// `peerstash service print-unit`: the unit passes `systemd-analyze verify` (CI installs systemd),
// has the hardening it promises, and its ExecStart line really runs a node.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api-client.js';
import { stopChild } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli, tempDir } from './helpers.js';

let root = '';
beforeAll(async () => {
  root = await tempDir('service');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `systemd-analyze verify` on a unit text: its complaints; undefined when not installed. */
async function verify(unit: string): Promise<{ status: number | null; out: string } | undefined> {
  const file = join(root, 'peerstash.service');
  await writeFile(file, unit);
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    // CI installs it (Debian's systemd package): there it must run.
    expect(process.env.CI, 'systemd-analyze is not installed').toBeFalsy();
    return undefined;
  }
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const lines = (unit: string) => unit.split('\n');

describe('service print-unit', () => {
  it('a unit for a dedicated user and /var/lib/peerstash, hardened, that systemd accepts', async () => {
    const r = await runCli(['service', 'print-unit', '--bootstrap', '10.0.0.1:7400']);
    expect(r.code, r.stderr).toBe(0);
    const unit = r.stdout;
    for (const want of [
      '[Unit]',
      '[Service]',
      '[Install]',
      'User=peerstash',
      'Group=peerstash',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/peerstash',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'WantedBy=multi-user.target',
      'Environment=MALLOC_MMAP_THRESHOLD_=131072',
    ]) {
      expect(lines(unit), want).toContain(want);
    }
    const exec = lines(unit).find((l) => l.startsWith('ExecStart='));
    expect(exec).toMatch(
      new RegExp(
        `^ExecStart=${process.execPath} --initial-old-space-size=64 --max-semi-space-size=4 /\\S+ serve --dir /var/lib/peerstash --bootstrap 10\\.0\\.0\\.1:7400$`,
      ),
    );
    const checked = await verify(unit);
    if (checked) expect(checked, checked.out).toEqual({ status: 0, out: '' });
  });

  it('a data dir under /home: only that dir is mounted into an empty /home', async () => {
    const r = await runCli([
      'service',
      'print-unit',
      '--user',
      'alice',
      '--data-dir',
      '/home/alice/peer stash',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(
      expect.arrayContaining([
        'User=alice',
        'ProtectHome=tmpfs',
        'BindPaths="/home/alice/peer stash"',
        'ReadWritePaths="/home/alice/peer stash"',
      ]),
    );
    expect(r.stdout).toContain('serve --dir "/home/alice/peer stash"');
    const checked = await verify(r.stdout);
    if (checked) expect(checked, checked.out).toEqual({ status: 0, out: '' });
  });

  it('bad --user or --bootstrap: exit 2', async () => {
    const user = await runCli(['service', 'print-unit', '--user', 'a b']);
    expect(user.code).toBe(EXIT.USAGE);
    expect(expectOneLine(user.stderr)).toContain('--user');
    const boot = await runCli(['service', 'print-unit', '--bootstrap', 'nohost']);
    expect(boot.code).toBe(EXIT.USAGE);
    expect((await runCli(['service'])).code).toBe(EXIT.USAGE);
  });

  it('its ExecStart runs a node that answers, ignores SIGHUP and stops cleanly on SIGTERM', async () => {
    const dir = join(root, 'node');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const r = await runCli(['service', 'print-unit', '--data-dir', dir, '--json']);
    const exec = lines(JSON.parse(r.stdout).unit as string)
      .find((l) => l.startsWith('ExecStart='))!
      .slice('ExecStart='.length)
      .split(' ');
    const child = spawn(exec[0]!, exec.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    try {
      for (let i = 0; i < 300 && !out.includes('"node started"'); i++) {
        expect(child.exitCode, out).toBeNull();
        await new Promise((res) => setTimeout(res, 50));
      }
      child.kill('SIGHUP');
      const client = await ApiClient.fromDataDir(dir);
      for (let i = 0; i < 100 && !out.includes('SIGHUP ignored'); i++) {
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(out).toContain('SIGHUP ignored');
      expect((await client.status()).nodeId).toMatch(/^[0-9a-f]{64}$/);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      await stopChild(child, 'SIGKILL');
    }
  });
});
