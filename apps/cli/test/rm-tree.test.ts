// `peerstash rm -r` end-to-end: refused without a terminal unless --yes, asked on a terminal (a
// real pty from `script`), every file under the folder removed with --yes, and nothing else.

import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN_PATH } from '../src/child-node.js';
import { EXIT } from '../src/exit-codes.js';
import { useCluster } from './cluster.js';
import { expectOneLine, runCli } from './helpers.js';

const c = useCluster('rm-tree', 2);

async function putAll(keys: string[]): Promise<void> {
  for (const key of keys) {
    await c.nodes[0]!.client.put(key, Readable.from([Buffer.from(key)]), { size: key.length });
  }
}

const cli = (...args: string[]) => runCli([...args, '--dir', c.dirs[1]!]);
const listed = async (path: string) => {
  const r = await cli('ls', '-r', path);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
};

/** Runs `rm -r` on a real terminal, answering `answer` to its question. */
async function onTerminal(answer: string, folder: string) {
  const cmd = `"${process.execPath}" "${BIN_PATH}" rm -r ${folder} --dir "${c.dirs[1]}"`;
  // script(1) gives the command a pty; what we write to its stdin is typed on that terminal
  const child = execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 30_000 });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b;
  });
  child.stdin?.end(`${answer}\n`);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { code, out };
}

beforeAll(async () => {
  await putAll(['junk/a', 'junk/b', 'junk/sub/c', 'junk-keep', 'keep/x']);
});

describe('rm -r', () => {
  it('without a terminal and without --yes: refuses with the count, exit 2, removes nothing', async () => {
    const r = await cli('rm', '-r', 'junk');
    expect(r.code).toBe(EXIT.USAGE);
    expect(expectOneLine(r.stderr)).toBe(
      'peerstash: rm -r would remove 3 files (22 B) under junk/, and there is no terminal to confirm it on; add --yes to remove them',
    );
    expect(await listed('junk/')).toEqual(['junk/a', 'junk/b', 'junk/sub/c']);
  });

  it('on a terminal: "n" keeps everything, "y" removes the folder', async () => {
    await putAll(['tty/a', 'tty/b']);
    const no = await onTerminal('n', 'tty/');
    expect(no.code).toBe(0);
    expect(no.out).toContain('remove 2 files (10 B) under tty/? [y/N]');
    expect(no.out).toContain('nothing removed');
    expect(await listed('tty/')).toEqual(['tty/a', 'tty/b']);
    const yes = await onTerminal('y', 'tty/');
    expect(yes.code, yes.out).toBe(0);
    expect(yes.out).toMatch(/rm -r tty\/: 2 removed/);
    expect(await listed('tty/')).toEqual([]);
  });

  it('--yes removes every file under the folder and nothing beside it', async () => {
    const r = await cli('rm', '-r', 'junk/', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ prefix: 'junk/', removed: 3, failed: 0 });
    const gone = await cli('ls', 'junk');
    expect(gone.code).toBe(EXIT.NOT_FOUND);
    expect(await listed('')).toEqual(['junk-keep', 'keep/x']);
    // on the node it was put on too
    const first = await runCli(['ls', '-r', '--dir', c.dirs[0]!]);
    expect(first.stdout).toBe('junk-keep\nkeep/x\n');
  });

  it('a folder with nothing in it: exit 4; the top of the vault: exit 2', async () => {
    const none = await cli('rm', '-r', 'junk/', '--yes');
    expect(none.code).toBe(EXIT.NOT_FOUND);
    expectOneLine(none.stderr);
    for (const top of ['', '/']) {
      const r = await cli('rm', '-r', top, '--yes');
      expect(r.code).toBe(EXIT.USAGE);
      expect(expectOneLine(r.stderr)).toContain('rm -r needs a folder');
    }
  });
});
