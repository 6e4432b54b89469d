import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from './node-flags.js';

const run = promisify(execFile);

describe('NODE_FLAGS', () => {
  it('are V8 flags this node accepts on its command line (an unknown one exits 9)', async () => {
    const { stdout } = await run(process.execPath, [
      ...NODE_FLAGS,
      '-e',
      `process.stdout.write(process.execArgv.slice(0, ${NODE_FLAGS.length}).join(' '))`,
    ]);
    expect(stdout).toBe(NODE_FLAGS.join(' '));
    await expect(
      run(process.execPath, ['--initial-old-space-sise=64', '-e', '0']),
    ).rejects.toThrow();
  });
});
