// Runs `peerstash serve` as a child process on free ports and finds it once it answers.
// Used by `peerstash demo` and by the tests; every node it starts can be stopped or killed.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE_ENV_VARS, NODE_FLAGS } from '@peerstash/fileserver/node-flags';
import { ApiClient, type NodeStatus } from './api-client.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** dist/bin.js, found the same way from src/ (tests) and dist/ (the built CLI). */
export const BIN_PATH = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const LOG_TAIL = 64 * 1024;

interface Logs {
  text: string;
  stdout: string;
}

export interface StartNodeOptions {
  dir: string;
  /** Extra `serve` arguments (for example `--bootstrap`). */
  args?: string[];
  listen?: string;
  bin?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the node to answer on its API. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class NodeProcess {
  readonly dir: string;
  readonly child: ChildProcess;
  readonly client: ApiClient;
  /** The peer address the node actually listens on. */
  readonly listen: string;
  readonly #logs: Logs;

  constructor(dir: string, child: ChildProcess, client: ApiClient, listen: string, logs: Logs) {
    this.dir = dir;
    this.child = child;
    this.client = client;
    this.listen = listen;
    this.#logs = logs;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines the node wrote (stdout and stderr, interleaved). */
  logs(): string {
    return this.#logs.text;
  }

  /** The last lines the node wrote on stdout: its JSON log lines. */
  stdout(): string {
    return this.#logs.stdout;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit; escalates to SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    return stopChild(this.child, signal, timeoutMs);
  }
}

export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 15_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = await exited;
    return code;
  } finally {
    clearTimeout(timer);
  }
}

function listenOf(st: NodeStatus): string | undefined {
  const v = st.listen ?? st.listenAddr ?? st.address;
  return typeof v === 'string' ? v : undefined;
}

export function peerCount(st: NodeStatus): number {
  const p = st.peers;
  if (Array.isArray(p)) return p.length;
  return typeof p === 'number' ? p : 0;
}

/** Spawns `serve` on 127.0.0.1 port 0 (peer and API) and resolves once its API answers. */
export async function startNode(opts: StartNodeOptions): Promise<NodeProcess> {
  const bin = opts.bin ?? BIN_PATH;
  const args = [
    bin,
    'serve',
    '--dir',
    opts.dir,
    '--listen',
    opts.listen ?? '127.0.0.1:0',
    '--api-port',
    '0',
    '--exit-with-parent',
    ...(opts.args ?? []),
  ];
  // the node's heap flags (see NODE_FLAGS): without them a put costs 100+ full GCs per GiB
  const child = spawn(process.execPath, [...NODE_FLAGS, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...NODE_ENV_VARS, ...(opts.env ?? process.env) },
  });
  const logs: Logs = { text: '', stdout: '' };
  const keep = (chunk: Buffer) => {
    logs.text = (logs.text + chunk.toString('utf8')).slice(-LOG_TAIL);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    logs.stdout = (logs.stdout + chunk.toString('utf8')).slice(-LOG_TAIL);
  });
  child.stderr?.on('data', keep);
  // Nothing is written to stdin: it stays open while this process lives, and its end stops the child.
  child.stdin?.on('error', () => {});

  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      if (child.exitCode !== null || child.signalCode !== null) {
        const last = logs.text.trim().split('\n').slice(-1)[0] ?? '';
        throw new CliError(
          'ERR_NODE_EXITED',
          EXIT.GENERIC,
          `node on ${opts.dir} exited (${child.exitCode ?? child.signalCode}) before answering: ${last}`,
        );
      }
      const client = await ApiClient.fromDataDir(opts.dir).catch(() => undefined);
      if (client) {
        const st = await client
          .status({ signal: AbortSignal.timeout(2000) })
          .catch(() => undefined);
        const listen = st && listenOf(st);
        if (st && listen) return new NodeProcess(opts.dir, child, client, listen, logs);
      }
      if (Date.now() > deadline) {
        throw new CliError(
          'ERR_TIMEOUT',
          EXIT.TIMEOUT,
          `node on ${opts.dir} did not answer within ${opts.timeoutMs ?? 20_000} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stopChild(child, 'SIGKILL', 5000);
    throw err;
  }
}

/** Polls until every node sees at least `peers` peers. */
export async function waitForPeers(
  nodes: NodeProcess[],
  peers: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const counts = await Promise.all(
      nodes.map((n) =>
        n.client
          .status({ signal: AbortSignal.timeout(2000) })
          .then(peerCount)
          .catch(() => 0),
      ),
    );
    if (counts.every((c) => c >= peers)) return;
    if (Date.now() > deadline) {
      throw new CliError(
        'ERR_TIMEOUT',
        EXIT.TIMEOUT,
        `the cluster did not connect within ${timeoutMs} ms (peers seen: ${counts.join(', ')})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
