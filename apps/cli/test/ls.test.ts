// `peerstash ls` end-to-end: the table, --json and --all against real `serve` processes.

import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { expectOneLine, runCli } from './helpers.js';
import { SIZE, useTwoNodes } from './two-nodes.js';

const c = useTwoNodes('ls');

beforeAll(async () => {
  for (const key of ['docs/input.bin', 'input.bin']) {
    expect((await runCli(['put', c.input, '--key', key, '--dir', c.dirA])).code).toBe(0);
  }
  expect(
    (await runCli(['put', '-', '--key', 'from-stdin', '--dir', c.dirA], { input: c.input })).code,
  ).toBe(0);
});

describe('ls', () => {
  it('lists keys and sizes, as a table and as JSON', async () => {
    const json = await runCli(['ls', '--json', '--dir', c.dirA]);
    expect(json.code).toBe(0);
    const files = JSON.parse(json.stdout) as Array<{ key: string; size: number }>;
    expect(files.map((f) => f.key)).toEqual(
      expect.arrayContaining(['docs/input.bin', 'input.bin', 'from-stdin']),
    );
    expect(files.find((f) => f.key === 'input.bin')?.size).toBe(SIZE);
    const table = await runCli(['ls', '--dir', c.dirA]);
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY\s+SIZE\s+CREATED$/);
    expect(table.stdout).toContain('docs/input.bin');
    // --all asks the peer too: both nodes hold every file here
    const every = await runCli(['ls', '--all', '--json', '--dir', c.dirB]);
    expect(every.code, every.stderr).toBe(0);
    const listed = JSON.parse(every.stdout) as Array<{ key: string; copies: number }>;
    expect(listed.find((f) => f.key === 'input.bin')?.copies).toBe(2);
    const wide = await runCli(['ls', '--all', '--dir', c.dirB]);
    expect(wide.stdout.split('\n')[0]).toMatch(/^KEY\s+SIZE\s+CREATED\s+COPIES$/);
    expect(wide.stdout).toMatch(/input\.bin\s+3\.00 MiB\s+\S+\s+2\n/);
  });

  it('a 4 KiB key is cut with an ellipsis in the table, whole in --json', async () => {
    const long = `reports/${'x'.repeat(4000)}/final.pdf`;
    expect((await runCli(['put', c.input, '--key', long, '--dir', c.dirA])).code).toBe(0);
    const table = await runCli(['ls', '--dir', c.dirA]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    // every row stays the width of a terminal, the long one keeps its start and its end
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(100);
    const row = lines.find((l) => l.startsWith('reports/'));
    expect(row).toMatch(/^reports\/x+…x+\/final\.pdf\s+3\.00 MiB\s+\S+$/);
    expect(lines.find((l) => l.startsWith('input.bin'))).toMatch(/^input\.bin\s+3\.00 MiB/);
    const json = await runCli(['ls', '--json', '--dir', c.dirA]);
    expect((JSON.parse(json.stdout) as Array<{ key: string }>).map((f) => f.key)).toContain(long);
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
