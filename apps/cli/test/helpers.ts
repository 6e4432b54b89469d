// Shared pieces of the CLI's end-to-end tests: run the built `peerstash` binary as a user does,
// make temp dirs, and hash files, all without holding whole files in memory.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BIN_PATH, type NodeProcess } from '../src/child-node.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `peerstash ...args` to completion; `input` is piped to its stdin. */
export async function runCli(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN_PATH, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.on('error', () => {});
  if (opts.input) pipeline(createReadStream(opts.input), child.stdin).catch(() => {});
  else child.stdin.end();
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `peerstash-cli-${prefix}-`));
}

/** Writes `size` random bytes to `path` and resolves their SHA-256. */
export async function randomFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  let left = size;
  const src = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const c = randomBytes(Math.min(left, 1 << 16));
      left -= c.length;
      h.update(c);
      this.push(c);
    },
  });
  await pipeline(src, createWriteStream(path));
  return h.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** Every file under `dir`, recursively. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** The one-line error contract: a single line starting with "peerstash: ", no stack. */
export function expectOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  if (lines.length !== 1 || !lines[0]!.startsWith('peerstash: ') || /\n\s+at /.test(stderr)) {
    throw new Error(`expected one error line, got:\n${stderr}`);
  }
  return lines[0]!;
}

/** The value of the first line of the node's /metrics matching `line` (its one group); 0 if none. */
export async function metric(n: NodeProcess, line: RegExp): Promise<number> {
  const res = await n.client.request('GET', '/metrics');
  const chunks: Buffer[] = [];
  for await (const b of res) chunks.push(b as Buffer);
  const m = line.exec(Buffer.concat(chunks).toString());
  return m ? Number(m[1]) : 0;
}

/** Bytes the node sent to clients (its peerstash_bytes_out_total{via="client"}). */
export const clientBytes = (n: NodeProcess) =>
  metric(n, /^peerstash_bytes_out_total\{via="client"\} (\d+)$/m);
