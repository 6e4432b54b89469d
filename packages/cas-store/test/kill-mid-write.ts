// Runs a writer script in a real child process, waits for its "mid-write" line, SIGKILLs it after a
// delay and returns what it printed; the crash tests of the store and of the blockstore share it.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'vitest';

export async function killMidWrite(
  script: string,
  args: string[],
  marker: string,
  delayMs: number,
): Promise<string> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) resolve();
    });
    child.once('exit', (c) => reject(new Error(`writer exited early with ${c}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  expect(code).toBeNull();
  expect(signal).toBe('SIGKILL');
  return out;
}
