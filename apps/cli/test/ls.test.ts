// `peerstash ls` end-to-end on a 3-node cluster: folders, -r, -l, paging, --json, a lone file,
// a missing path, a reader that goes away, and a node that never answers.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN_PATH } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { compareKeys, statFile } from '../src/listing.js';
import { useCluster } from './cluster.js';
import { expectOneLine, runCli } from './helpers.js';

const c = useCluster('ls', 3);
const MANY = 25;
const manyKeys = Array.from({ length: MANY }, (_, i) => `many/f${String(i).padStart(2, '0')}`);
const keys = [
  'docs/a.txt',
  'docs/b.txt',
  'docs/sub/c.txt',
  'docs-old.txt',
  'top.txt',
  'top.txt/inner',
  ...manyKeys,
];

beforeAll(async () => {
  // put on the first node; every listing below is asked of the third
  for (const key of keys) {
    const body = Buffer.from(`content of ${key}`);
    await c.nodes[0]!.client.put(key, Readable.from([body]), { size: body.length });
  }
});

const ls = (...args: string[]) => runCli(['ls', ...args, '--dir', c.dirs[2]!]);
const lines = (out: string) => out.split('\n').filter((l) => l !== '');

describe('ls', () => {
  it('the top of the vault: files and folders (trailing /) in key order', async () => {
    const r = await ls();
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['docs-old.txt', 'docs/', 'many/', 'top.txt', 'top.txt/']);
  });

  it('a folder, with or without its /: names relative to it', async () => {
    for (const path of ['docs', 'docs/']) {
      const r = await ls(path);
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['a.txt', 'b.txt', 'sub/']);
    }
  });

  it('a key that is a file and a folder both: the file, then the folder', async () => {
    const r = await ls('top.txt');
    expect(lines(r.stdout)).toEqual(['top.txt', 'inner']);
  });

  it('-r: every key below, whole, in order', async () => {
    const r = await ls('-r');
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([...keys].sort(compareKeys));
    const docs = await ls('-r', 'docs/');
    expect(lines(docs.stdout)).toEqual(['docs/a.txt', 'docs/b.txt', 'docs/sub/c.txt']);
  });

  it('-l: size, time, copies and name in columns under a header, and a total', async () => {
    const r = await ls('-l', 'docs');
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rest] = lines(r.stdout);
    expect(header).toMatch(/^\s+SIZE {2}MODIFIED\s+COPIES {2}NAME$/);
    const nameAt = header!.indexOf('NAME');
    expect(rest).toHaveLength(4);
    const a = rest[0]!;
    expect(a.slice(nameAt)).toBe('a.txt');
    const size = 'content of docs/a.txt'.length;
    expect(a).toMatch(
      new RegExp(`^\\s+${size} B {2}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d {2}\\s+[123] {2}a\\.txt$`),
    );
    expect(rest[2]!.slice(nameAt)).toBe('sub/');
    expect(rest[3]).toBe(`total: 2 files, 1 folder, ${2 * size} B`);
    // the copies column is the catalog's: the same as stat's holders
    const copies = Number(a.trim().split(/\s+/)[4]);
    const st = await statFile(c.nodes[2]!.client, 'docs/a.txt');
    expect(copies).toBe(st?.holders.length);
  });

  it('pages: the same listing through pages of 7 (and of 1 with folders)', async () => {
    const paged = await ls('-r', 'many/', '--page-size', '7', '--json');
    expect(paged.code, paged.stderr).toBe(0);
    const files = JSON.parse(paged.stdout) as Array<{ key: string; size: number; copies: number }>;
    expect(files.map((f) => f.key)).toEqual(manyKeys);
    expect(files[0]).toMatchObject({ size: 'content of many/f00'.length });
    expect(files[0]!.copies).toBeGreaterThanOrEqual(1);
    const top = await ls('--page-size', '1');
    expect(lines(top.stdout)).toEqual(['docs-old.txt', 'docs/', 'many/', 'top.txt', 'top.txt/']);
  });

  it('--json: files with their version and time, folders as { key, folder }', async () => {
    const r = await ls('--json');
    const entries = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(entries.find((e) => e.key === 'docs/')).toEqual({ key: 'docs/', folder: true });
    const top = entries.find((e) => e.key === 'top.txt')!;
    expect(top.version).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(Number(top.modified) - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('a path with nothing under it: exit 4; an empty vault part is not an error at the top', async () => {
    const r = await ls('nothing/here');
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(expectOneLine(r.stderr)).toContain('no file or folder "nothing/here"');
    expect((await ls('--bogus')).code).toBe(EXIT.USAGE);
    expect((await ls('--page-size', '0')).code).toBe(EXIT.USAGE);
  });

  it('a reader that goes away (ls | head -1) ends it quietly', async () => {
    const child = spawn(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BIN_PATH}" ls -r --page-size 1 --dir "${c.dirs[2]}" | head -1`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b;
    });
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(out).toBe('docs-old.txt\n');
    expect(err).toBe('');
  });

  it('a 4 KiB key is listed whole', async () => {
    const long = `reports/${'x'.repeat(4000)}/final.pdf`;
    await c.nodes[0]!.client.put(long, Readable.from([Buffer.from('x')]), { size: 1 });
    const r = await ls('-r', 'reports/');
    expect(lines(r.stdout)).toEqual([long]);
  });

  it('a node that accepts but never answers: exit 11 after --timeout', async () => {
    const dir = join(c.root, 'hung');
    expect((await runCli(['init', '--dir', dir])).code).toBe(0);
    const sockets = new Set<Socket>();
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
});
