// `peerstash get` end-to-end: to a file, with --json, and every way it can fail, against real
// `serve` processes (see two-nodes.ts).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN_PATH, startNode } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { clientBytes, expectOneLine, randomFile, runCli, sha256File, walk } from './helpers.js';
import { SIZE, useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('get');

async function sha256Of(stream: AsyncIterable<unknown>): Promise<string> {
  const h = createHash('sha256');
  for await (const b of stream) h.update(b as Buffer);
  return h.digest('hex');
}

/** Inverts one byte of a file on disk (bit rot). */
async function flip(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

/** The file ending in `suffix` written last under `dir`. */
async function newest(dir: string, suffix: string): Promise<string> {
  const files = (await walk(dir)).filter((f) => f.endsWith(suffix));
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return files[times.indexOf(Math.max(...times))]!;
}

beforeAll(async () => {
  expect((await runCli(['put', c.input, '--dir', c.dirA])).code).toBe(0);
});

describe('get', () => {
  it('get --json -o reports the file; --json without -o is a usage error', async () => {
    const out = join(c.root, 'json.bin');
    const get = await runCli(['get', 'input.bin', '-o', out, '--json', '--dir', c.dirA]);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ key: 'input.bin', file: out, size: SIZE });
    const bad = await runCli(['get', 'input.bin', '--json', '--dir', c.dirA]);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'ERR_USAGE', exitCode: EXIT.USAGE });
    // With --json, every error is one JSON line: here an unknown key.
    const missing = await runCli([
      'get',
      'nope',
      '-o',
      join(c.root, 'x'),
      '--json',
      '--dir',
      c.dirA,
    ]);
    expect(missing.code).toBe(EXIT.NOT_FOUND);
    expect(JSON.parse(missing.stderr).error).toMatchObject({ code: 'ERR_NOT_FOUND', exitCode: 4 });
  });

  it('unknown key: exit 4, one line', async () => {
    const r = await runCli(['get', 'no-such-key', '--dir', c.dirA]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr);
  });

  it('-o into a folder that does not exist: exit 4 naming the folder', async () => {
    const r = await runCli([
      'get',
      'input.bin',
      '-o',
      join(c.root, 'nope', 'x.bin'),
      '--dir',
      c.dirA,
    ]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(expectOneLine(r.stderr)).toContain(`no such folder: ${join(c.root, 'nope')}`);
  });

  it('a disk-full write: exit 7, one line', async () => {
    const r = await runCli(['get', 'input.bin', '-o', '/dev/full', '--dir', c.dirA]);
    expect(r.code).toBe(EXIT.NO_SPACE);
    expect(expectOneLine(r.stderr)).toContain('no space');
  });

  it('the node dies mid-get: exit 3 naming the cut', async () => {
    const dir = join(c.root, 'dying');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    const big = join(c.root, 'big.bin');
    await randomFile(big, 48 * 1024 * 1024);
    try {
      expect((await runCli(['put', big, '--key', 'big', '--dir', dir])).code).toBe(0);
      // stdout is a pipe nobody reads: the transfer stalls on backpressure, then the node dies.
      // --no-local: every byte through the node (from its own disk, the get would not need it)
      const child = spawn(process.execPath, [BIN_PATH, 'get', 'big', '--no-local', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk;
      });
      child.stdout.pause();
      await new Promise<void>((resolve) => child.stdout.once('readable', () => resolve()));
      await n.stop('SIGKILL');
      child.stdout.resume();
      const [code] = await once(child, 'close');
      expect(code).toBe(EXIT.NODE_NOT_RUNNING);
      expect(expectOneLine(err)).toContain('part-way');
    } finally {
      await n.stop();
    }
  });

  it("reads the node's own copy from the data dir: byte-identical, no byte through the API", async () => {
    const before = await clientBytes(c.a);
    const out = join(c.root, 'local.bin');
    const r = await runCli(['get', 'input.bin', '-o', out, '--dir', c.dirA]);
    expect(r.code, r.stderr).toBe(0);
    expect(await sha256File(out)).toBe(c.inputSha);
    const piped = spawn(process.execPath, [BIN_PATH, 'get', 'input.bin', '--dir', c.dirA], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [sha] = await Promise.all([sha256Of(piped.stdout), once(piped, 'close')]);
    expect(piped.exitCode).toBe(0);
    expect(sha).toBe(c.inputSha);
    expect(await clientBytes(c.a)).toBe(before);
    // --no-local takes the same bytes through the node
    const viaApi = join(c.root, 'via-api.bin');
    expect(
      (await runCli(['get', 'input.bin', '--no-local', '-o', viaApi, '--dir', c.dirA])).code,
    ).toBe(0);
    expect(await sha256File(viaApi)).toBe(c.inputSha);
    expect(await clientBytes(c.a)).toBe(before + SIZE);
  });

  it('the node dies mid-get from its own disk: the get still completes', async () => {
    const dir = join(c.root, 'dying-local');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    const big = join(c.root, 'big-local.bin');
    const want = await randomFile(big, 48 * 1024 * 1024);
    try {
      expect((await runCli(['put', big, '--key', 'big', '--dir', dir])).code).toBe(0);
      const child = spawn(process.execPath, [BIN_PATH, 'get', 'big', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pause();
      await new Promise<void>((resolve) => child.stdout.once('readable', () => resolve()));
      await n.stop('SIGKILL');
      const [sha] = await Promise.all([sha256Of(child.stdout), once(child, 'close')]);
      expect(child.exitCode).toBe(0);
      expect(sha).toBe(want);
    } finally {
      await n.stop();
    }
  });

  it('a rotten local copy: the node sends the rest from its other copy, byte-identical', async () => {
    const key = 'rot-local.bin';
    expect((await runCli(['put', c.input, '--key', key, '--dir', c.dirA])).code).toBe(0);
    const blob = await newest(join(c.dirA, 'blobs'), '.blob');
    await flip(blob, Math.floor(SIZE / 2));
    const out = join(c.root, 'rot-local.bin');
    const before = await clientBytes(c.a);
    const r = await runCli(['get', key, '-o', out, '--dir', c.dirA]);
    expect(r.code, r.stderr).toBe(0);
    expect(await sha256File(out)).toBe(c.inputSha);
    // verified bytes read before the rotten chunk came from the disk, the rest through the node
    const sent = (await clientBytes(c.a)) - before;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(SIZE);
  });

  it("a copy of another version than the catalog's is not read: the node sends the current one", async () => {
    const key = 'stale.bin';
    const v1 = join(c.root, 'stale-v1.bin');
    const v2 = join(c.root, 'stale-v2.bin');
    await randomFile(v1, SIZE);
    const v2Sha = await randomFile(v2, SIZE);
    expect((await runCli(['put', v1, '--key', key, '--dir', c.dirA])).code).toBe(0);
    // keep A's files of v1 (its commit record and blob), put v2, then put v1's files back
    const meta = await newest(join(c.dirA, 'blobs'), '.meta.json');
    const blob = join(dirname(meta), JSON.parse(await readFile(meta, 'utf8')).blob as string);
    const kept = [await readFile(meta), await readFile(blob)] as const;
    expect((await runCli(['put', v2, '--key', key, '--dir', c.dirA])).code).toBe(0);
    await writeFile(blob, kept[1]);
    await writeFile(meta, kept[0]);
    const before = await clientBytes(c.a);
    const out = join(c.root, 'stale-out.bin');
    const r = await runCli(['get', key, '-o', out, '--dir', c.dirA]);
    expect(r.code, r.stderr).toBe(0);
    expect(await sha256File(out)).toBe(v2Sha);
    expect(await clientBytes(c.a)).toBe(before + SIZE);
  });

  it('Ctrl-C while the node does not answer: exit 130 at once, not at --timeout', async () => {
    const dir = join(c.root, 'frozen');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    try {
      expect((await runCli(['put', c.input, '--key', 'f', '--dir', dir])).code).toBe(0);
      process.kill(n.pid!, 'SIGSTOP');
      const get = spawn(
        process.execPath,
        [BIN_PATH, 'get', 'f', '-o', join(c.root, 'frozen.bin'), '--timeout', '60', '--dir', dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const closed = once(get, 'close');
      await new Promise((r) => setTimeout(r, 1000));
      const at = Date.now();
      get.kill('SIGINT');
      const [code] = await closed;
      expect(code).toBe(EXIT.INTERRUPTED);
      expect(Date.now() - at).toBeLessThan(5000);
    } finally {
      if (n.pid) process.kill(n.pid, 'SIGCONT');
      await n.stop();
    }
  });

  it('a rotten blob with no other copy: exit 5, no partial file', async () => {
    const dir = join(c.root, 'rot');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    try {
      expect((await runCli(['put', c.input, '--key', 'rot', '--dir', dir])).code).toBe(0);
      const blob = (await walk(join(dir, 'blobs'))).find((f) => f.endsWith('.blob'));
      expect(blob).toBeDefined();
      // Flip one byte well past the first chunk, so the body has started when it is found: the
      // CLI's read of the node's disk finds it, the node's read of the rest finds it again.
      await flip(blob!, Math.floor(SIZE / 2));
      const out = join(c.root, 'rot.bin');
      const r = await runCli(['get', 'rot', '-o', out, '--dir', dir]);
      expect(r.code, r.stderr).toBe(EXIT.INTEGRITY);
      expectOneLine(r.stderr);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await walk(c.root)).filter((f) => f.includes('peerstash-part'))).toEqual([]);
    } finally {
      await n.stop();
    }
  });

  it('Ctrl-C during get -o: exit 130, one line, no partial file', async () => {
    const dir = join(c.root, 'ctrl-c');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    try {
      const big = join(c.root, 'zeros.bin');
      const fh = await open(big, 'w');
      const mib = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 256; i++) await fh.write(mib);
      await fh.close();
      expect((await runCli(['put', big, '--key', 'zeros', '--dir', dir])).code).toBe(0);
      const outDir = join(c.root, 'ctrl-c-out');
      await mkdir(outDir);
      const target = join(outDir, 'zeros.bin');
      const get = spawn(process.execPath, [BIN_PATH, 'get', 'zeros', '-o', target, '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      get.stderr.on('data', (chunk: Buffer) => {
        err += chunk;
      });
      const closed = once(get, 'close');
      // Interrupt as soon as the temp file beside the target appears.
      for (let i = 0; i < 2000 && get.exitCode === null; i++) {
        if ((await walk(outDir)).some((f) => f.endsWith('.peerstash-part'))) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      get.kill('SIGINT');
      const [code] = await closed;
      expect(code, err).toBe(EXIT.INTERRUPTED);
      expect(expectOneLine(err)).toContain('interrupted');
      expect(await walk(outDir)).toEqual([]);
    } finally {
      await n.stop();
    }
  });
});
