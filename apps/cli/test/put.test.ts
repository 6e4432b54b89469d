// `peerstash put` end-to-end: the built binary against real `serve` processes (see two-nodes.ts).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_PATH, type NodeProcess, startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, metric, runCli, sha256File, walk } from './helpers.js';
import { SIZE, useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('put');

describe('put', () => {
  it('put on A replicates; get on B is byte-identical', async () => {
    const put = await runCli([
      'put',
      c.input,
      '--key',
      'docs/input.bin',
      '--dir',
      c.dirA,
      '--json',
    ]);
    expect(put.code).toBe(0);
    const res = JSON.parse(put.stdout);
    expect(res).toMatchObject({ key: 'docs/input.bin', size: SIZE });
    expect(res.replicas).toBeGreaterThanOrEqual(1);

    const out = join(c.root, 'out-b.bin');
    const get = await runCli(['get', 'docs/input.bin', '-o', out, '--dir', c.dirB]);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('wrote');
    expect(await sha256File(out)).toBe(c.inputSha);
    // No temp file is left beside the target.
    expect((await walk(c.root)).filter((f) => f.includes('peerstash-part'))).toEqual([]);
  });

  it('human put output names key, size and replicas; the default key is the file name', async () => {
    const put = await runCli(['put', c.input, '--dir', c.dirA]);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^stored input\.bin \(3\.00 MiB, \d+ replicas?\)\n$/);
    expect(put.stderr).toBe('');
  });

  it('put - reads stdin; get without -o writes stdout', async () => {
    const put = await runCli(['put', '-', '--key', 'from-stdin', '--dir', c.dirA], {
      input: c.input,
    });
    expect(put.code).toBe(0);
    const out = join(c.root, 'stdout.bin');
    // Redirect the child's stdout straight to a file: the bytes never sit in this process.
    const fh = await open(out, 'w');
    const child = spawn(process.execPath, [BIN_PATH, 'get', 'from-stdin', '--dir', c.dirB], {
      stdio: ['ignore', fh.fd, 'pipe'],
    });
    const [code] = await once(child, 'close');
    await fh.close();
    expect(code).toBe(0);
    expect(await sha256File(out)).toBe(c.inputSha);
  });
});

describe('put: mistakes a person makes', () => {
  it('an empty --key is named as empty, not missing: exit 2', async () => {
    for (const args of [
      ['put', '-', '--key', ''],
      ['put', c.input, '--key', ''],
    ]) {
      const r = await runCli([...args, '--dir', c.dirA], { input: c.input });
      expect(r.code, r.stderr).toBe(EXIT.USAGE);
      expect(expectOneLine(r.stderr)).toBe(
        'peerstash: the key is empty; give a name with --key <name>',
      );
    }
    const missing = await runCli(['put', '-', '--dir', c.dirA], { input: c.input });
    expect(missing.code).toBe(EXIT.USAGE);
    expect(expectOneLine(missing.stderr)).toContain('reading stdin needs a key');
  });

  it('a key over 4,096 bytes: exit 2 with what to do, a hint in --json too', async () => {
    // 4,097 bytes, however they are spelled: ASCII, and two-byte characters the URL triples
    for (const key of ['k'.repeat(4097), `${'é'.repeat(2048)}k`]) {
      const r = await runCli(['put', c.input, '--key', key, '--dir', c.dirA]);
      expect(r.code, r.stderr).toBe(EXIT.USAGE);
      expect(expectOneLine(r.stderr)).toBe(
        'peerstash: the key is 4097 bytes, over the limit of 4096 bytes (UTF-8); give a shorter --key: it names the file, the content goes in the file',
      );
      const j = await runCli(['put', c.input, '--key', key, '--dir', c.dirA, '--json']);
      expect(JSON.parse(j.stderr).error).toMatchObject({
        code: 'ERR_INVALID_KEY',
        exitCode: EXIT.USAGE,
        hint: expect.stringContaining('shorter'),
      });
    }
    // exactly at the limit is a key like any other
    const max = 'é'.repeat(2048);
    const ok = await runCli(['put', c.input, '--key', max, '--dir', c.dirA, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).key).toBe(max);
    const get = await runCli(['get', 'k'.repeat(4097), '--dir', c.dirA]);
    expect(get.code).toBe(EXIT.USAGE);
    expectOneLine(get.stderr);
  });

  it('a directory: exit 2 naming it', async () => {
    const r = await runCli(['put', c.root, '--dir', c.dirA]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(expectOneLine(r.stderr)).toContain(`${c.root} is a directory`);
  });

  it('wrong data dir (token of another node): exit 6', async () => {
    const other = join(c.root, 'copy');
    await cp(c.dirA, other, { recursive: true });
    await writeFile(join(other, 'api-token'), 'not-the-token\n');
    const r = await runCli(['ls', '--dir', other]);
    expect(r.code).toBe(EXIT.PERMISSION);
    expect(expectOneLine(r.stderr)).toContain('token');
    // A put is refused before its body is through; the answer must still win over the reset.
    for (let i = 0; i < 3; i++) {
      const p = await runCli(['put', c.input, '--dir', other]);
      expect(p.code, p.stderr).toBe(EXIT.PERMISSION);
      expect(expectOneLine(p.stderr)).toContain('token');
    }
  });

  it('storage-only node refuses plaintext: exit 6', async () => {
    const dir = join(c.root, 'storage');
    expect((await runCli(['init', '--dir', dir, '--join', c.dirA, '--storage-only'])).code).toBe(0);
    const s = await startNode({ dir, args: ['--bootstrap', c.a.listen], timeoutMs: 30_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await runCli(['put', c.input, '--dir', dir]);
        expect(r.code, r.stderr).toBe(EXIT.PERMISSION);
        expect(expectOneLine(r.stderr)).toContain('storage-only');
      }
    } finally {
      await s.stop();
    }
  });
});

describe('put: Ctrl-C', () => {
  let n: NodeProcess;
  let dir = '';
  beforeAll(async () => {
    dir = join(c.root, 'ctrl-c');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    // The repair and scrub knobs are accepted and handed to the node.
    const args = [
      '--replicas',
      '0',
      '--repair-interval',
      '2',
      '--repair-rate',
      '0',
      '--tombstone-ttl',
      '1',
      '--scrub-interval',
      '0.5',
      '--scrub-rate',
      '5',
    ];
    n = await startNode({ dir, args, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await n?.stop();
  });

  it('exit 130, one line, the node keeps nothing', async () => {
    const put = spawn(process.execPath, [BIN_PATH, 'put', '-', '--key', 'intr', '--dir', dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    put.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    put.stdin.on('error', () => {});
    const closed = once(put, 'close');
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 3; i++) if (!put.stdin.write(chunk)) await once(put.stdin, 'drain');
    put.kill('SIGINT');
    const [code] = await closed;
    expect(code, err).toBe(EXIT.INTERRUPTED);
    expect(expectOneLine(err)).toContain('interrupted');
    // The node notices the client is gone and drops the half-received file. It counts the failed
    // put only once that write has been cleaned up (the request may reach it after the CLI died).
    const failedPuts = () => metric(n, /^peerstash_puts_total\{result="error"\} (\d+)$/m);
    for (let i = 0; i < 150 && (await failedPuts()) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await failedPuts()).toBe(1);
    expect((await walk(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await n.client.has('intr')).toBe(false);
  });
});
