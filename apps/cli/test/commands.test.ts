// Every command end-to-end: the built binary against real `peerstash serve` processes on
// 127.0.0.1 (port 0), real temp data dirs, real TLS-PSK links between the nodes.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_PATH, type NodeProcess, startNode, waitForPeers } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, randomFile, runCli, sha256File, tempDir, walk } from './helpers.js';

let root = '';
let a: NodeProcess;
let b: NodeProcess;
let dirA = '';
let dirB = '';
let input = '';
let inputSha = '';
const SIZE = 3 * 1024 * 1024 + 17;

beforeAll(async () => {
  root = await tempDir('e2e');
  dirA = join(root, 'a');
  dirB = join(root, 'b');
  expect((await runCli(['init', '--dir', dirA, '--listen', '127.0.0.1:0'])).code).toBe(0);
  expect((await runCli(['init', '--dir', dirB, '--join', join(dirA, 'keys.json')])).code).toBe(0);
  a = await startNode({ dir: dirA, timeoutMs: 30_000 });
  b = await startNode({ dir: dirB, args: ['--bootstrap', a.listen], timeoutMs: 30_000 });
  await waitForPeers([a, b], 1, 30_000);
  input = join(root, 'input.bin');
  inputSha = await randomFile(input, SIZE);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(root, { recursive: true, force: true });
});

describe('put / get / ls / status / rm against two nodes', () => {
  it('put on A replicates; get on B is byte-identical', async () => {
    const put = await runCli(['put', input, '--key', 'docs/input.bin', '--dir', dirA, '--json']);
    expect(put.code).toBe(0);
    const res = JSON.parse(put.stdout);
    expect(res).toMatchObject({ key: 'docs/input.bin', size: SIZE });
    expect(res.replicas).toBeGreaterThanOrEqual(1);

    const out = join(root, 'out-b.bin');
    const get = await runCli(['get', 'docs/input.bin', '-o', out, '--dir', dirB]);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('wrote');
    expect(await sha256File(out)).toBe(inputSha);
    // No temp file is left beside the target.
    expect((await walk(root)).filter((f) => f.includes('peerstash-part'))).toEqual([]);
  });

  it('human put output names key, size and replicas; the default key is the file name', async () => {
    const put = await runCli(['put', input, '--dir', dirA]);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^stored input\.bin \(3\.00 MiB, \d+ replicas?\)\n$/);
    expect(put.stderr).toBe('');
  });

  it('put - reads stdin; get without -o writes stdout', async () => {
    const put = await runCli(['put', '-', '--key', 'from-stdin', '--dir', dirA], { input });
    expect(put.code).toBe(0);
    const out = join(root, 'stdout.bin');
    // Redirect the child's stdout straight to a file: the bytes never sit in this process.
    const fh = await import('node:fs/promises').then((m) => m.open(out, 'w'));
    const child = spawn(process.execPath, [BIN_PATH, 'get', 'from-stdin', '--dir', dirB], {
      stdio: ['ignore', fh.fd, 'pipe'],
    });
    const [code] = await once(child, 'close');
    await fh.close();
    expect(code).toBe(0);
    expect(await sha256File(out)).toBe(inputSha);
  });

  it('get --json -o reports the file; --json without -o is a usage error', async () => {
    const out = join(root, 'json.bin');
    const get = await runCli(['get', 'input.bin', '-o', out, '--json', '--dir', dirA]);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ key: 'input.bin', file: out, size: SIZE });
    const bad = await runCli(['get', 'input.bin', '--json', '--dir', dirA]);
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'ERR_USAGE', exitCode: EXIT.USAGE });
    // With --json, every error is one JSON line: here an unknown key.
    const missing = await runCli(['get', 'nope', '-o', join(root, 'x'), '--json', '--dir', dirA]);
    expect(missing.code).toBe(EXIT.NOT_FOUND);
    expect(JSON.parse(missing.stderr).error).toMatchObject({ code: 'ERR_NOT_FOUND', exitCode: 4 });
  });

  it('ls lists keys and sizes, as a table and as JSON', async () => {
    const json = await runCli(['ls', '--json', '--dir', dirA]);
    expect(json.code).toBe(0);
    const files = JSON.parse(json.stdout) as Array<{ key: string; size: number }>;
    expect(files.map((f) => f.key)).toEqual(
      expect.arrayContaining(['docs/input.bin', 'input.bin', 'from-stdin']),
    );
    expect(files.find((f) => f.key === 'input.bin')?.size).toBe(SIZE);
    const table = await runCli(['ls', '--dir', dirA]);
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY\s+SIZE\s+CREATED$/);
    expect(table.stdout).toContain('docs/input.bin');
    // --all asks the peer too: both nodes hold every file here
    const every = await runCli(['ls', '--all', '--json', '--dir', dirB]);
    expect(every.code, every.stderr).toBe(0);
    const listed = JSON.parse(every.stdout) as Array<{ key: string; copies: number }>;
    expect(listed.find((f) => f.key === 'input.bin')?.copies).toBe(2);
    const wide = await runCli(['ls', '--all', '--dir', dirB]);
    expect(wide.stdout.split('\n')[0]).toMatch(/^KEY\s+SIZE\s+CREATED\s+COPIES$/);
    expect(wide.stdout).toMatch(/input\.bin\s+3\.00 MiB\s+\S+\s+2\n/);
  });

  it('status shows id, addresses and the peer', async () => {
    const json = await runCli(['status', '--json', '--dir', dirB]);
    expect(json.code).toBe(0);
    const st = JSON.parse(json.stdout);
    expect(st.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(st.peers).toHaveLength(1);
    const human = await runCli(['status', '--dir', dirB]);
    expect(human.stdout).toContain(st.nodeId);
    expect(human.stdout).toMatch(/peers\s+1/);
    expect(human.stdout).toContain('TLS-PSK');
    expect(human.stdout).toMatch(/repair\s+\d+ keys held, \d+ under-replicated/);
    expect(human.stdout).toMatch(/scrub\s+no pass yet, 0 rotten copies found/);
  });

  it('scrub checks every blob; a flipped byte is found, dropped, and gets still succeed', async () => {
    const clean = await runCli(['scrub', '--json', '--dir', dirB]);
    expect(clean.code, clean.stderr).toBe(0);
    const before = JSON.parse(clean.stdout) as { checked: number; rotten: number };
    expect(before.checked).toBeGreaterThan(0);
    expect(before.rotten).toBe(0);
    // rot one of B's blobs on disk
    const blobs = (await walk(join(dirB, 'blobs'))).filter((f) => f.endsWith('.blob'));
    const victim = blobs[0]!;
    const fh = await open(victim, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 100);
    byte[0] = byte[0]! ^ 0xff;
    await fh.write(byte, 0, 1, 100);
    await fh.close();
    const found = await runCli(['scrub', '--dir', dirB]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(
      new RegExp(
        `^checked ${before.checked} blobs \\(.+\\): 1 rotten copy dropped; repair brings it back from peers\n$`,
      ),
    );
    expect(await walk(join(dirB, 'blobs'))).not.toContain(victim);
    const st = JSON.parse((await runCli(['status', '--json', '--dir', dirB])).stdout);
    expect(st.scrubRotten).toBe(1);
    // every file still reads on B, the dropped one from A
    const out = join(root, 'after-scrub.bin');
    expect((await runCli(['get', 'docs/input.bin', '-o', out, '--dir', dirB])).code).toBe(0);
    expect(await sha256File(out)).toBe(inputSha);
  });

  it('PEERSTASH_DIR finds the node', async () => {
    const r = await runCli(['status', '--json'], { env: { PEERSTASH_DIR: dirA } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).listen).toBe(a.listen);
  });

  it('rm --everywhere removes the file from both nodes; then get is exit 4', async () => {
    const rmr = await runCli(['rm', 'docs/input.bin', '--everywhere', '--dir', dirA, '--json']);
    expect(rmr.code).toBe(0);
    expect(JSON.parse(rmr.stdout)).toMatchObject({ deleted: true });
    for (const dir of [dirA, dirB]) {
      const get = await runCli(['get', 'docs/input.bin', '-o', join(root, 'gone'), '--dir', dir]);
      expect(get.code).toBe(EXIT.NOT_FOUND);
      expectOneLine(get.stderr);
    }
    await expect(stat(join(root, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rm of an unknown key is exit 4', async () => {
    const r = await runCli(['rm', 'never-stored', '--dir', dirA]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(expectOneLine(r.stderr)).toContain('peerstash ls');
  });
});

describe('errors a person will hit', () => {
  it('unknown key: exit 4, one line', async () => {
    const r = await runCli(['get', 'no-such-key', '--dir', dirA]);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr);
  });

  it('a disk-full write: exit 7, one line', async () => {
    const r = await runCli(['get', 'input.bin', '-o', '/dev/full', '--dir', dirA]);
    expect(r.code).toBe(EXIT.NO_SPACE);
    expect(expectOneLine(r.stderr)).toContain('no space');
  });

  it('wrong data dir (token of another node): exit 6', async () => {
    const other = join(root, 'copy');
    await cp(dirA, other, { recursive: true });
    await writeFile(join(other, 'api-token'), 'not-the-token\n');
    const r = await runCli(['ls', '--dir', other]);
    expect(r.code).toBe(EXIT.PERMISSION);
    expect(expectOneLine(r.stderr)).toContain('token');
    // A put is refused before its body is through; the answer must still win over the reset.
    for (let i = 0; i < 3; i++) {
      const p = await runCli(['put', input, '--dir', other]);
      expect(p.code, p.stderr).toBe(EXIT.PERMISSION);
      expect(expectOneLine(p.stderr)).toContain('token');
    }
  });

  it('node not running (stale api.json): exit 3 naming serve', async () => {
    const dir = join(root, 'stale');
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

  it('the node dies mid-get: exit 3 naming the cut', async () => {
    const dir = join(root, 'dying');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    const big = join(root, 'big.bin');
    await randomFile(big, 48 * 1024 * 1024);
    try {
      expect((await runCli(['put', big, '--key', 'big', '--dir', dir])).code).toBe(0);
      // stdout is a pipe nobody reads: the transfer stalls on backpressure, then the node dies.
      const child = spawn(process.execPath, [BIN_PATH, 'get', 'big', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c;
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

  it('a rotten blob with no other copy: exit 5, no partial file', async () => {
    const dir = join(root, 'rot');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    try {
      expect((await runCli(['put', input, '--key', 'rot', '--dir', dir])).code).toBe(0);
      const blob = (await walk(join(dir, 'blobs'))).find((f) => f.endsWith('.blob'));
      expect(blob).toBeDefined();
      // Flip one byte well past the first chunk, so the body has started when it is found.
      const fh = await import('node:fs/promises').then((m) => m.open(blob!, 'r+'));
      const at = Math.floor(SIZE / 2);
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, at);
      b[0] = b[0]! ^ 0xff;
      await fh.write(b, 0, 1, at);
      await fh.close();
      const out = join(root, 'rot.bin');
      const r = await runCli(['get', 'rot', '-o', out, '--dir', dir]);
      expect(r.code, r.stderr).toBe(EXIT.INTEGRITY);
      expectOneLine(r.stderr);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await walk(root)).filter((f) => f.includes('peerstash-part'))).toEqual([]);
    } finally {
      await n.stop();
    }
  });

  it('a node that accepts but never answers: exit 11 after --timeout', async () => {
    const dir = join(root, 'hung');
    expect((await runCli(['init', '--dir', dir])).code).toBe(0);
    const sockets = new Set<import('node:net').Socket>();
    const srv: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      await writeFile(
        join(dir, 'api.json'),
        JSON.stringify({ url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port }),
      );
      const r = await runCli(['ls', '--dir', dir, '--timeout', '1']);
      expect(r.code).toBe(EXIT.TIMEOUT);
      expect(expectOneLine(r.stderr)).toContain('sent nothing');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    }
  });

  it('port in use: exit 8 for the peer port and for the API port', async () => {
    const dir = join(root, 'busy');
    expect((await runCli(['init', '--dir', dir, '--join', dirA])).code).toBe(0);
    const peer = await runCli(['serve', '--dir', dir, '--listen', a.listen]);
    expect(peer.code).toBe(EXIT.PORT_IN_USE);
    expect(expectOneLine(peer.stderr)).toContain('in use');
    const api = await runCli([
      'serve',
      '--dir',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--api-port',
      String(a.client.port),
    ]);
    expect(api.code).toBe(EXIT.PORT_IN_USE);
  });

  it('a second serve on a running data dir: exit 10', async () => {
    const r = await runCli(['serve', '--dir', dirA, '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(EXIT.ALREADY_EXISTS);
    expectOneLine(r.stderr);
  });

  it('a stale api.json naming another live node does not block serve', async () => {
    const clone = join(root, 'clone');
    await cp(dirA, clone, { recursive: true });
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
      child.stdout.on('data', (c: Buffer) => {
        out += c;
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
    const r = await runCli(['serve', '--dir', join(root, 'never')]);
    expect(r.code).toBe(EXIT.NOT_INITIALISED);
    expect(expectOneLine(r.stderr)).toContain('peerstash init');
  });

  it('bad bootstrap address: exit 2', async () => {
    const r = await runCli(['serve', '--dir', dirA, '--bootstrap', 'nohost']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(expectOneLine(r.stderr)).toContain('bootstrap');
  });

  it('storage-only node refuses plaintext: exit 6', async () => {
    const dir = join(root, 'storage');
    expect((await runCli(['init', '--dir', dir, '--join', dirA, '--storage-only'])).code).toBe(0);
    const s = await startNode({ dir, args: ['--bootstrap', a.listen], timeoutMs: 30_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await runCli(['put', input, '--dir', dir]);
        expect(r.code, r.stderr).toBe(EXIT.PERMISSION);
        expect(expectOneLine(r.stderr)).toContain('storage-only');
      }
    } finally {
      await s.stop();
    }
  });
});

describe('Ctrl-C during a transfer', () => {
  let n: NodeProcess;
  let dir = '';
  beforeAll(async () => {
    dir = join(root, 'ctrl-c');
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

  it('put: exit 130, one line, the node keeps nothing', async () => {
    const put = spawn(process.execPath, [BIN_PATH, 'put', '-', '--key', 'intr', '--dir', dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    put.stderr.on('data', (c: Buffer) => {
      err += c;
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
    const failedPuts = async () => {
      const res = await n.client.request('GET', '/metrics');
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const m = /^peerstash_puts_total\{result="error"\} (\d+)$/m.exec(
        Buffer.concat(chunks).toString(),
      );
      return m ? Number(m[1]) : 0;
    };
    for (let i = 0; i < 150 && (await failedPuts()) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await failedPuts()).toBe(1);
    expect((await walk(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await n.client.has('intr')).toBe(false);
  });

  it('get -o: exit 130, one line, no partial file', async () => {
    const big = join(root, 'zeros.bin');
    const fh = await import('node:fs/promises').then((m) => m.open(big, 'w'));
    const mib = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 256; i++) await fh.write(mib);
    await fh.close();
    expect((await runCli(['put', big, '--key', 'zeros', '--dir', dir])).code).toBe(0);
    const outDir = join(root, 'ctrl-c-out');
    await import('node:fs/promises').then((m) => m.mkdir(outDir));
    const target = join(outDir, 'zeros.bin');
    const get = spawn(process.execPath, [BIN_PATH, 'get', 'zeros', '-o', target, '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    get.stderr.on('data', (c: Buffer) => {
      err += c;
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
  });
});

describe('serve on every interface', () => {
  it('--advertise is what peers learn; without it serve warns', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const dir = join(root, 'wide');
    expect((await runCli(['init', '--dir', dir, '--join', dirA])).code).toBe(0);
    const wide = await startNode({
      dir,
      listen: `0.0.0.0:${port}`,
      args: ['--advertise', `127.0.0.1:${port}`, '--bootstrap', a.listen],
      timeoutMs: 30_000,
    });
    try {
      await waitForPeers([wide], 1, 30_000);
      // A learnt the wide node by its advertised address, not 0.0.0.0.
      let seen: unknown[] = [];
      for (let i = 0; i < 100; i++) {
        const st = await a.client.status();
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
});

describe('serve lifecycle', () => {
  it('SIGTERM and SIGINT: exit 0, api.json removed, no temp files, logs are JSON lines', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dir = join(root, `life-${signal}`);
      expect((await runCli(['init', '--dir', dir, '--join', dirA])).code).toBe(0);
      const n = await startNode({ dir, args: ['--bootstrap', a.listen], timeoutMs: 30_000 });
      const put = await runCli(['put', input, '--key', `life-${signal}`, '--dir', dir]);
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
    const dir = join(root, 'midput');
    expect((await runCli(['init', '--dir', dir, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const n = await startNode({ dir, args: ['--replicas', '0'], timeoutMs: 30_000 });
    const put = spawn(process.execPath, [BIN_PATH, 'put', '-', '--key', 'slow', '--dir', dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    put.stderr.on('data', (c: Buffer) => {
      err += c;
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
    const dir = join(root, 'early');
    expect((await runCli(['init', '--dir', dir, '--join', dirA])).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BIN_PATH, 'serve', '--dir', dir, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    // Wait for the first log line: the node is inside start() by then, or just past it.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    expect(code, out).toBe(0);
    await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('--exit-with-parent: the end of stdin stops the node cleanly', async () => {
    const dir = join(root, 'orphan');
    expect((await runCli(['init', '--dir', dir, '--join', dirA])).code).toBe(0);
    const n = await startNode({ dir, timeoutMs: 30_000 });
    const exited = once(n.child, 'exit');
    n.child.stdin?.end();
    const [code] = await exited;
    expect(code).toBe(0);
    await expect(stat(join(dir, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
