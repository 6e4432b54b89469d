// Starts and drives real `peerstash serve` processes for the reliability scenarios.
// Everything goes through the public surface: the CLI binary, the data dir and the HTTP API.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const CLI_BIN = resolve(here, '../../../apps/cli/dist/bin.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (init, put, get …) and returns its exit code and output. */
export async function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: Buffer; netns?: string } = {},
): Promise<RunResult> {
  const [cmd, argv] = wrap(opts.netns, [process.execPath, CLI_BIN, ...args]);
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(opts.input);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

function wrap(netns: string | undefined, argv: string[]): [string, string[]] {
  if (!netns) return [argv[0]!, argv.slice(1)];
  return ['ip', ['netns', 'exec', netns, ...argv]];
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(process.env.PEERSTASH_TEST_TMP ?? tmpdir(), `peerstash-${prefix}-`));
}

export interface InitOptions {
  join?: string;
  storageOnly?: boolean;
}

export async function initNode(dir: string, opts: InitOptions = {}): Promise<void> {
  const args = ['init', '--dir', dir];
  if (opts.join) args.push('--join', opts.join);
  if (opts.storageOnly) args.push('--storage-only');
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`peerstash init failed (${r.code}): ${r.stderr}`);
}

/** Path of a node's key file, the one a joining node copies. */
export function keyFile(dir: string): string {
  return join(dir, 'keys.json');
}

export interface ServeOptions {
  listen?: string;
  bootstrap?: string[];
  replicas?: number;
  netns?: string;
  apiHost?: string;
  extraArgs?: string[];
}

export class NodeProc {
  readonly dir: string;
  readonly opts: ServeOptions;
  child: ChildProcess | undefined;
  apiBase = '';
  token = '';
  listenAddr = '';
  logs: string[] = [];
  peakRssKiB = 0;
  private rssTimer: NodeJS.Timeout | undefined;

  constructor(dir: string, opts: ServeOptions = {}) {
    this.dir = dir;
    this.opts = opts;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start(timeoutMs = 20_000): Promise<this> {
    await rm(join(this.dir, 'api.json'), { force: true });
    const args = ['serve', '--dir', this.dir, '--listen', this.opts.listen ?? '127.0.0.1:0'];
    for (const b of this.opts.bootstrap ?? []) args.push('--bootstrap', b);
    if (this.opts.replicas !== undefined) args.push('--replicas', String(this.opts.replicas));
    if (this.opts.apiHost) args.push('--api-host', this.opts.apiHost);
    args.push(...(this.opts.extraArgs ?? []));
    const [cmd, argv] = wrap(this.opts.netns, [process.execPath, CLI_BIN, ...args]);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (c: Buffer) => {
      this.logs.push(c.toString());
      if (this.logs.length > 400) this.logs.splice(0, 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`node ${this.dir} exited at start:\n${this.tail()}`);
      try {
        const api = JSON.parse(await readFile(join(this.dir, 'api.json'), 'utf8')) as {
          url?: string;
          host?: string;
          port?: number;
        };
        this.apiBase = api.url ?? `http://${api.host}:${api.port}`;
        this.token = (await readFile(join(this.dir, 'api-token'), 'utf8')).trim();
        const st = await this.status();
        this.listenAddr = String(st.listen ?? st.listenAddress ?? st.address ?? '');
        break;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`node ${this.dir} did not start:\n${this.tail()}`);
        await sleep(100);
      }
    }
    this.rssTimer = setInterval(() => void this.sampleRss(), 250);
    this.rssTimer.unref();
    return this;
  }

  tail(): string {
    return this.logs.join('').split('\n').slice(-30).join('\n');
  }

  private async sampleRss(): Promise<void> {
    if (!this.running) return;
    try {
      // With `ip netns exec` the child is `ip`, which execs node in place: same pid.
      const s = await readFile(`/proc/${this.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+)/.exec(s);
      if (m) this.peakRssKiB = Math.max(this.peakRssKiB, Number(m[1]));
    } catch {
      // the process just exited
    }
  }

  /** SIGKILL: the crash a power cut would cause. */
  async kill(): Promise<void> {
    if (!this.running) return;
    await this.sampleRss();
    const exited = once(this.child!, 'exit');
    this.child!.kill('SIGKILL');
    await exited;
    clearInterval(this.rssTimer);
  }

  /** SIGSTOP: the process stays, its sockets open, but it answers nothing (a hung node). */
  freeze(): void {
    if (this.running) this.child!.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    if (this.running) this.child!.kill('SIGCONT');
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    await this.sampleRss();
    const exited = once(this.child!, 'exit');
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    const [code] = (await exited) as [number | null];
    clearTimeout(timer);
    clearInterval(this.rssTimer);
    return code;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  async status(): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.apiBase}/v1/status`, {
      headers: this.headers(),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`status ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async peerCount(): Promise<number> {
    const st = await this.status();
    const peers = st.peers as unknown;
    return Array.isArray(peers) ? peers.length : Number(peers ?? 0);
  }

  fileUrl(key: string): string {
    return `${this.apiBase}/v1/files/${encodeURIComponent(key)}`;
  }

  /** PUT a body; resolves with the HTTP status and the JSON answer. */
  async put(
    key: string,
    body: Buffer | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'PUT',
      headers: this.headers({ 'content-type': 'application/octet-stream' }),
      signal: signal ?? AbortSignal.timeout(120_000),
    };
    if (Buffer.isBuffer(body)) init.body = body;
    else {
      init.body = Readable.toWeb(Readable.from(body)) as unknown as ReadableStream;
      init.duplex = 'half';
    }
    const res = await fetch(this.fileUrl(key), init);
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** GET a file; resolves with status and the SHA-256 of the body (or the JSON error). */
  async get(
    key: string,
    timeoutMs = 60_000,
  ): Promise<{ status: number; sha256?: string; size?: number; error?: Record<string, unknown> }> {
    const res = await fetch(this.fileUrl(key), {
      headers: this.headers(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      const text = await res.text();
      let error: Record<string, unknown> = { raw: text };
      try {
        error = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // keep raw text
      }
      return { status: res.status, error };
    }
    const h = createHash('sha256');
    let size = 0;
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
        h.update(c);
        size += c.length;
      }
    } catch (e) {
      // A body that breaks off mid-way is a failed get, never a short success.
      return { status: 599, error: { code: 'ERR_BODY', message: String(e) } };
    }
    return { status: res.status, sha256: h.digest('hex'), size };
  }

  async del(key: string, everywhere = false): Promise<number> {
    const res = await fetch(`${this.fileUrl(key)}${everywhere ? '?everywhere=1' : ''}`, {
      method: 'DELETE',
      headers: this.headers(),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  }

  async metric(name: string): Promise<number> {
    const res = await fetch(`${this.apiBase}/metrics`, {
      headers: this.headers(),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) {
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }
}

/**
 * Starts `begin` (a get), then finds which of `candidates` is serving it: the one whose
 * bytes-out counter moves first. Resolves the index, or -1 if none moved within ~10 s.
 */
export async function findSender(candidates: NodeProc[], begin: () => void): Promise<number> {
  const metric = 'peerstash_bytes_out_total';
  const before = await Promise.all(candidates.map((n) => n.metric(metric)));
  begin();
  for (let i = 0; i < 1000; i++) {
    await sleep(10);
    for (const [j, n] of candidates.entries()) {
      if ((await n.metric(metric).catch(() => 0)) - before[j]! > 256 * 1024) return j;
    }
  }
  return -1;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts n vault nodes sharing one key file; node 0 is everyone's bootstrap. */
export async function startCluster(
  n: number,
  opts: {
    replicas?: number;
    storageOnly?: number[];
    /** Arguments of the first node's serve. */
    extraArgs?: string[];
    /** Arguments of every node's serve. */
    allArgs?: string[];
  } = {},
): Promise<NodeProc[]> {
  const nodes: NodeProc[] = [];
  const first = await tempDir('n0');
  await initNode(first);
  nodes.push(
    await new NodeProc(first, {
      replicas: opts.replicas,
      extraArgs: [...(opts.allArgs ?? []), ...(opts.extraArgs ?? [])],
    }).start(),
  );
  for (let i = 1; i < n; i++) {
    const dir = await tempDir(`n${i}`);
    await initNode(dir, { join: keyFile(first), storageOnly: opts.storageOnly?.includes(i) });
    nodes.push(
      await new NodeProc(dir, {
        replicas: opts.replicas,
        bootstrap: [nodes[0]!.listenAddr],
        extraArgs: opts.allArgs ?? [],
      }).start(),
    );
  }
  await waitFor('full mesh', async () => {
    for (const node of nodes) if ((await node.peerCount()) < n - 1) return false;
    return true;
  });
  return nodes;
}

export async function stopCluster(nodes: NodeProc[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.kill()));
  await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
}

/** Deterministic pseudo-random bytes, streamed in 1 MiB pieces so no test holds a whole file. */
export async function* patternStream(seed: string, size: number): AsyncGenerator<Uint8Array> {
  let counter = 0;
  let left = size;
  while (left > 0) {
    const block = createHash('sha512').update(`${seed}:${counter++}`).digest();
    const piece = Buffer.allocUnsafe(Math.min(left, 1 << 20));
    for (let off = 0; off < piece.length; off += block.length) block.copy(piece, off);
    left -= piece.length;
    yield piece;
  }
}

export async function patternSha256(seed: string, size: number): Promise<string> {
  const h = createHash('sha256');
  for await (const c of patternStream(seed, size)) h.update(c);
  return h.digest('hex');
}

export function randomKey(prefix = 'k'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Every file under a dir (recursively), for temp-file and plaintext checks. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Files a crash or a failed write left behind: any temp file in the data dir. */
export async function leftoverTempFiles(dir: string): Promise<string[]> {
  return (await walk(dir)).filter((p) => /\.tmp$|\.partial$/.test(basename(p)));
}

/** Stored blob files (not their metadata) under a node's data dir. */
export async function blobFiles(dir: string): Promise<string[]> {
  return (await walk(join(dir, 'blobs'))).filter((p) => basename(p).endsWith('.blob'));
}

export async function fileSize(p: string): Promise<number> {
  return (await stat(p)).size;
}
