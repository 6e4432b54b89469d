// Three real `peerstash serve` processes on loopback for the through-a-node bench (node 0 serves
// the S3 and restic gateways), the CLI run as a child, and per-node CPU and peak RSS from /proc.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CLI = new URL('../../../apps/cli/bin/peerstash.js', import.meta.url).pathname;
// what the CLI gives the nodes it starts (flags, malloc env); spawned as `node <bin>` here
const FILESERVER_DIST = '../../../packages/fileserver/dist/index.js';
const { NODE_ENV_VARS, NODE_FLAGS } = await import(new URL(FILESERVER_DIST, import.meta.url).href);
/** BENCH_NODE_ENV="K=V K=V": extra environment for every node (MALLOC_ARENA_MAX=2) */
const NODE_ENV = Object.fromEntries(
  (process.env.BENCH_NODE_ENV ?? '')
    .split(' ')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const SAMPLE_MS = 100;
const CLI_DIST = new URL('../../../apps/cli/dist/bin.js', import.meta.url).pathname;
const TICKS = 100; // USER_HZ on Linux
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion; rejects with its stderr tail on a non-zero exit. */
export function run(cmd, args, { env = {}, stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', stdout === 'capture' ? 'pipe' : 'ignore', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err = (err + c).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${err}`)),
    );
  });
}

export const cli = (args, opts) => run(process.execPath, [CLI, ...args], opts);

/** utime + stime of a process in seconds, from /proc/<pid>/stat. */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds of this process's children that have exited (the clients: CLI, aws, restic). */
export async function exitedChildrenCpuSeconds() {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS;
}

async function statusField(pid, name) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
}

/** RssAnon and RssFile (MiB) of a process now. */
async function rssParts(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024 };
}

class Node {
  constructor(dir, child, logFile) {
    this.dir = dir;
    this.child = child;
    this.logs = '';
    const keep = (c) => {
      this.logs = (this.logs + c).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (logFile) {
      const copy = createWriteStream(logFile);
      child.stdout.pipe(copy);
      child.stderr.pipe(copy);
    }
    this.exited = once(child, 'exit');
  }

  get pid() {
    return this.child.pid;
  }

  async api(path) {
    const res = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  }

  async ready(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`node exited:\n${this.logs}`);
      try {
        const api = JSON.parse(await readFile(join(this.dir, 'api.json'), 'utf8'));
        this.url = api.url ?? `http://${api.host}:${api.port}`;
        this.token = (await readFile(join(this.dir, 'api-token'), 'utf8')).trim();
        this.status = await this.api('/v1/status');
        return this;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`node did not start: ${err}\n${this.logs}`);
        await sleep(100);
      }
    }
  }

  /** Starts a phase: CPU baseline, and the peak RSS reset (clear_refs 5 resets VmHWM). */
  async mark() {
    this.cpu0 = await cpuSeconds(this.pid);
    await writeFile(`/proc/${this.pid}/clear_refs`, '5').catch(() => {});
    // VmHWM counts mapped files too (code, the LMDB catalog: reclaimable); the peaks of the
    // anonymous part (heap, Buffers, malloc) and of the file part are sampled apart
    this.peakAnon = 0;
    this.peakFile = 0;
    clearInterval(this.sampler);
    const sample = async () => {
      const { anon, file } = await rssParts(this.pid);
      this.peakAnon = Math.max(this.peakAnon, anon);
      this.peakFile = Math.max(this.peakFile, file);
    };
    await sample();
    this.sampler = setInterval(sample, SAMPLE_MS);
  }

  /** CPU seconds since mark() and the peak RSS (MiB) in that span. */
  async measure() {
    clearInterval(this.sampler);
    return {
      peakAnonMiB: this.peakAnon,
      peakFileMiB: this.peakFile,
      cpuS: (await cpuSeconds(this.pid)) - this.cpu0,
      peakRssMiB: await statusField(this.pid, 'VmHWM'),
      // at the end of the phase: anonymous memory (heap, buffers) vs mapped files (code, lmdb)
      anonMiB: await statusField(this.pid, 'RssAnon'),
      fileMiB: await statusField(this.pid, 'RssFile'),
    };
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Starts three nodes under `root` sharing one key file (R = 3: each file on every node, the
 * default with three peers); node 0 serves S3 and restic and holds one access key. Repair and
 * scrub are off so background passes do not land inside a timed phase.
 */
export async function startCluster(root, { nodeFlags = [] } = {}) {
  if (!existsSync(CLI_DIST)) throw new Error('apps/cli is not built: run `pnpm build` first');
  const quiet = ['--repair-interval', '0', '--scrub-interval', '0', '--no-ui'];
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(root, `node${i}`);
    await cli(['init', '--dir', dir, ...(i ? ['--join', join(root, 'node0', 'keys.json')] : [])]);
    const extra =
      i === 0
        ? ['--s3-listen', '127.0.0.1:0', '--restic-listen', '127.0.0.1:0']
        : ['--bootstrap', String(nodes[0].status.listen ?? nodes[0].status.address)];
    const child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        ...(i === 0 ? nodeFlags : []),
        CLI,
        'serve',
        '--dir',
        dir,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        (i === 0 && process.env.BENCH_NODE_LOG_LEVEL) || 'warn',
        ...quiet,
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...NODE_ENV_VARS, ...process.env, ...NODE_ENV } },
    );
    nodes.push(
      await new Node(dir, child, i === 0 ? process.env.BENCH_NODE_LOG : undefined).ready(),
    );
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const peers = await Promise.all(nodes.map((n) => n.api('/v1/status')));
    if (peers.every((s) => (Array.isArray(s.peers) ? s.peers.length : Number(s.peers)) >= 2)) break;
    if (Date.now() > deadline) throw new Error('the three nodes did not mesh');
    await sleep(200);
  }
  const key = JSON.parse(
    await cli(['s3', 'keys', 'add', '--dir', nodes[0].dir, '--json'], { stdout: 'capture' }),
  );
  const { gateways } = await nodes[0].api('/v1/status');
  if (!gateways?.s3 || !gateways?.restic) throw new Error('node 0 reports no gateways');
  return {
    nodes,
    s3: gateways.s3,
    restic: gateways.restic,
    key,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
    },
  };
}
