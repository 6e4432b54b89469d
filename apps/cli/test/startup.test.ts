// The client commands (put, get, ls, status, …) start without loading a node: not the
// fileserver's main entry (transport, store, catalog, lmdb) nor the gateway. Loading them cost
// every command ~100 ms of CPU before it did anything (README: "Start-up").

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { VERSION } from '../src/version.js';
import { tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/peerstash.js', import.meta.url));

describe('start-up', () => {
  let dir: string;
  let register: string;
  beforeAll(async () => {
    dir = await tempDir('cli-startup-');
    // a module hook that reports every module URL the program resolves
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `export async function resolve(spec, ctx, next) {
        const r = await next(spec, ctx);
        process.stderr.write('LOADED ' + r.url + '\\n');
        return r;
      }\n`,
    );
    register = join(dir, 'register.mjs');
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
  });
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
  });

  async function loaded(args: string[]) {
    const child = spawn(process.execPath, ['--import', register, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const [code] = await once(child, 'close');
    const lines = err.split('\n');
    return {
      code,
      out,
      said: lines.filter((l) => l && !l.startsWith('LOADED ')),
      urls: lines.filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7)),
    };
  }

  it.each([
    [['--version'], EXIT.OK],
    [['status', '--dir', '/nonexistent-peerstash-dir'], EXIT.NOT_INITIALISED],
    [['ls', '--dir', '/nonexistent-peerstash-dir'], EXIT.NOT_INITIALISED],
  ])('%j loads neither the node nor the gateway', async (args, exit) => {
    const { code, out, said, urls } = await loaded(args);
    // the command ran to its documented end: version printed, or the one-line "no data dir"
    expect(code).toBe(exit);
    if (exit === EXIT.OK) expect(out.trim()).toBe(VERSION);
    else expect(said).toEqual([expect.stringContaining('no data dir at')]);
    // the hook saw the program itself: the list is real
    expect(urls.some((u) => u.endsWith('/cli/dist/cli.js'))).toBe(true);
    expect(
      urls.filter((u) => /fileserver\/dist\/index\.js|\/lmdb|gateway\/dist|\/web\/dist/.test(u)),
    ).toEqual([]);
  });
});
