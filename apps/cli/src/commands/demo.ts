// `peerstash demo`: a 3-node cluster of real `serve` processes shows a file surviving the loss of
// the node it was put on. Everything it creates (processes, temp dirs) is removed, also on failure or Ctrl-C.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Argv, CommandModule } from 'yargs';
import { type NodeProcess, startNode, waitForPeers } from '../child-node.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatDuration, parseBytes } from '../format.js';
import { initDataDir } from './init.js';

interface DemoArgs extends GlobalArgs {
  size: string;
  startTimeout: number;
}

const KEY = 'demo/hello.bin';

/** Random bytes as a stream, hashed on the way out. */
function randomSource(size: number, hash: ReturnType<typeof createHash>): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(left, 256 * 1024));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

export interface DemoResult {
  ok: boolean;
  size: number;
  sha256: string;
  replicas: number;
  wallMs: number;
  steps: Array<{ step: string; ms: number }>;
}

export async function runDemo(opts: {
  size: number;
  timeoutMs: number;
  signal: AbortSignal;
  print: (line: string) => void;
}): Promise<DemoResult> {
  const t0 = performance.now();
  const steps: DemoResult['steps'] = [];
  const total = 7;
  let n = 0;
  const step = async <T>(title: string, fn: () => Promise<T>, detail?: (v: T) => string) => {
    opts.signal.throwIfAborted();
    const t = performance.now();
    n++;
    const v = await fn();
    const ms = performance.now() - t;
    steps.push({ step: title, ms });
    opts.print(
      `[${n}/${total}] ${title}${detail ? `: ${detail(v)}` : ''}  (${formatDuration(ms)})`,
    );
    return v;
  };

  const root = await mkdtemp(join(tmpdir(), 'peerstash-demo-'));
  const nodes: NodeProcess[] = [];
  try {
    const dirs = [1, 2, 3].map((i) => join(root, `node${i}`));
    await step(
      `init 3 data dirs under ${root}`,
      async () => {
        await initDataDir({ dir: dirs[0]!, listen: '127.0.0.1:0' });
        // Nodes 2 and 3 join with node 1's key file: same vault key and cluster secret.
        for (const d of dirs.slice(1)) {
          await initDataDir({ dir: d, join: join(dirs[0]!, 'keys.json'), listen: '127.0.0.1:0' });
        }
      },
      () => 'one vault key and cluster secret, copied from node 1',
    );
    const startOpts = { timeoutMs: opts.timeoutMs, signal: opts.signal };
    const n1 = await step(
      'start node 1',
      async () => {
        const node = await startNode({ dir: dirs[0]!, ...startOpts });
        nodes.push(node);
        return node;
      },
      (node) => `pid ${node.pid}, peers on ${node.listen}, API on ${node.client.address}`,
    );
    const [n2, n3] = await step(
      'start nodes 2 and 3 with node 1 as bootstrap',
      async () => {
        const started = await Promise.all(
          dirs.slice(1).map((dir) =>
            startNode({ dir, args: ['--bootstrap', n1.listen], ...startOpts }).then((node) => {
              nodes.push(node);
              return node;
            }),
          ),
        );
        await waitForPeers([n1, ...started], 2, opts.timeoutMs, opts.signal);
        return started as [NodeProcess, NodeProcess];
      },
      ([a, b]) => `peers on ${a.listen} and ${b.listen}; every node sees 2 peers`,
    );

    const hash = createHash('sha256');
    const put = await step(
      `put ${KEY} (${formatBytes(opts.size)} of random bytes) on node 1`,
      () =>
        n1.client.put(KEY, randomSource(opts.size, hash), { size: opts.size, signal: opts.signal }),
      (r) => `${r.replicas} replica(s) acknowledged`,
    );
    const expected = hash.digest('hex');
    opts.print(`      sha256 ${expected}`);

    await step(
      'stop node 1 and wipe its data dir',
      async () => {
        const code = await n1.stop('SIGTERM');
        await rm(dirs[0]!, { recursive: true, force: true });
        return code;
      },
      (code) => `exit code ${code}; ${dirs[0]} removed`,
    );

    const fetchTo = async (node: NodeProcess, file: string) => {
      const { stream, source } = await node.client.get(KEY, { signal: opts.signal });
      await pipeline(stream, createWriteStream(file));
      const got = await sha256File(file);
      if (got !== expected) {
        throw new CliError(
          'ERR_INTEGRITY',
          EXIT.INTEGRITY,
          `node ${node.dir} returned different bytes (sha256 ${got})`,
        );
      }
      return { size: (await stat(file)).size, source: source ?? 'unknown' };
    };

    await step(
      `get ${KEY} from node 2`,
      () => fetchTo(n2, join(root, 'from-node2.bin')),
      (r) =>
        `${formatBytes(r.size)} read from its ${r.source === 'local' ? 'own replica' : r.source}, sha256 matches: byte-identical`,
    );
    await step(
      `drop node 3's own copy, then get ${KEY} from node 3`,
      async () => {
        // A node outside the key's placement holds no copy (404): the get below still shows a peer fetch.
        await n3.client.delete(KEY).catch((err: { code?: string }) => {
          if (err.code !== 'ERR_NOT_FOUND') throw err;
        });
        return fetchTo(n3, join(root, 'from-node3.bin'));
      },
      (r) =>
        `${formatBytes(r.size)} ${r.source === 'peer' ? 'fetched from a peer' : `read from ${r.source}`}, sha256 matches: byte-identical`,
    );
    return {
      ok: true,
      size: opts.size,
      sha256: expected,
      replicas: put.replicas,
      wallMs: performance.now() - t0,
      steps,
    };
  } catch (err) {
    for (const node of nodes) {
      if (!node.running) continue;
      const tail = node.logs().trim().split('\n').slice(-5).join('\n      ');
      if (tail) opts.print(`      last log lines of ${node.dir}:\n      ${tail}`);
    }
    throw err;
  } finally {
    await Promise.all(nodes.map((node) => node.stop('SIGTERM', 10_000).catch(() => null)));
    await rm(root, { recursive: true, force: true });
  }
}

export function demoCommand(_ctx: CliContext): CommandModule<GlobalArgs, DemoArgs> {
  return {
    command: 'demo',
    describe: 'Start a 3-node cluster, lose the node a file was put on, get the file back',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('size', {
          type: 'string',
          default: '8MiB',
          describe: 'Size of the demo file (for example 64k, 8MiB, 1G)',
          requiresArg: true,
        })
        .option('start-timeout', {
          type: 'number',
          default: 20,
          describe: 'Seconds to wait for a node to start or the cluster to connect',
          requiresArg: true,
        }) as unknown as Argv<DemoArgs>,
    handler: async (argv) => {
      const size = parseBytes(argv.size);
      if (size === undefined) throw new UsageError(`bad --size "${argv.size}"`, 'for example 8MiB');
      const ac = new AbortController();
      const onSignal = (sig: NodeJS.Signals) =>
        ac.abort(new CliError('ERR_ABORTED', EXIT.INTERRUPTED, `interrupted (${sig}); cleaned up`));
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const print = argv.json ? () => {} : writeLine;
      try {
        print(`peerstash demo: 3 nodes on 127.0.0.1, replication factor 3`);
        const res = await runDemo({
          size,
          timeoutMs: argv.startTimeout * 1000,
          signal: ac.signal,
          print,
        });
        if (argv.json) return writeJson(res);
        print(
          `demo OK: wall time ${formatDuration(res.wallMs)} (target under 30 s); everything cleaned up`,
        );
      } catch (err) {
        if (ac.signal.aborted) throw ac.signal.reason;
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}
