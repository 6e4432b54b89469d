// `peerstash init`: creates a data dir with node id, vault key, cluster secret and API token.
// Secrets go to files of mode 0600 in a dir of mode 0700; an existing node is never overwritten.

import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseHostPort } from '../addr.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { ensureDir, LAYOUT, newApiToken, resolveDataDir, writeSecretFile } from '../data-dir.js';
import { CliError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import {
  encodeKeyFile,
  isNodeKeyFile,
  type KeyFile,
  locateKeyFile,
  readKeyFile,
} from '../key-file.js';
import { isLoopbackHost } from '../loopback.js';

// Loopback by default: a node is reachable from other machines only when asked to be, and then on
// an address its peers can dial (they learn it from this node, so 0.0.0.0 would not do).
export const DEFAULT_LISTEN = '127.0.0.1:7400';

interface InitArgs extends GlobalArgs {
  join?: string;
  storageOnly: boolean;
  listen?: string;
}

export interface InitResult {
  dir: string;
  nodeId: string;
  keyFile: string;
  storageOnly: boolean;
  joined: boolean;
  listen: string;
  /** Things the person should fix or clean up; the node was made all the same. */
  warnings: string[];
}

export async function initDataDir(opts: {
  dir: string;
  join?: string;
  storageOnly?: boolean;
  listen?: string;
}): Promise<InitResult> {
  const listen = opts.listen ?? DEFAULT_LISTEN;
  const { host, port } = parseHostPort(listen, 'listen address', '0.0.0.0');
  const warnings: string[] = [];
  if (opts.join && opts.listen === undefined && isLoopbackHost(host)) {
    warnings.push(
      `this node will listen on ${listen}, a loopback address: nodes on other machines cannot reach it; give this machine's own address: "peerstash serve --listen <address>:${port}", or set "listen" in ${join(opts.dir, LAYOUT.node)}`,
    );
  }
  const keyPath = join(opts.dir, LAYOUT.keys);
  if (await stat(keyPath).catch(() => undefined)) {
    throw new CliError(
      'ERR_ALREADY_INITIALISED',
      EXIT.ALREADY_EXISTS,
      `${opts.dir} already holds a node`,
      'keep it, or choose another --dir: overwriting would lose its vault key',
    );
  }
  // Loaded on use: only init needs the crypto package, and every other command starts faster.
  const { generateId, newEncryptionKey } = await import('@peerstash/crypto');
  let keys: KeyFile;
  if (opts.join) {
    const theirs = await readKeyFile(opts.join);
    if (!theirs.clusterSecret) {
      throw new UsageError(
        `${opts.join} has no cluster secret`,
        'give the keys.json of a node of the cluster you want to join',
      );
    }
    if (!opts.storageOnly && !theirs.vaultKey) {
      throw new UsageError(
        `${opts.join} has no vault key (it is a storage-only node's key file)`,
        'add --storage-only, or use the key file of a node that holds the vault key',
      );
    }
    keys = {
      clusterSecret: theirs.clusterSecret,
      ...(opts.storageOnly ? {} : { vaultKey: theirs.vaultKey }),
    };
    const file = await locateKeyFile(opts.join);
    if (opts.storageOnly && theirs.vaultKey && !(await isNodeKeyFile(file))) {
      warnings.push(
        `${file} still holds the vault key: this node did not keep it, but whoever reads that copy can read every file; delete it ("shred -u ${file}"), and copy the output of "peerstash keys export --storage-only" to storage-only machines instead`,
      );
    }
  } else {
    keys = {
      clusterSecret: newEncryptionKey(),
      ...(opts.storageOnly ? {} : { vaultKey: newEncryptionKey() }),
    };
  }
  await ensureDir(opts.dir);
  const nodeId = generateId();
  // keys.json goes first: its presence is what marks the dir as a node.
  await writeSecretFile(keyPath, encodeKeyFile(keys));
  await writeSecretFile(join(opts.dir, LAYOUT.token), `${newApiToken()}\n`);
  await writeFile(join(opts.dir, LAYOUT.node), `${JSON.stringify({ nodeId, listen }, null, 2)}\n`, {
    mode: 0o644,
    flag: 'wx',
  });
  return {
    dir: opts.dir,
    nodeId,
    keyFile: keyPath,
    storageOnly: !keys.vaultKey,
    joined: Boolean(opts.join),
    listen,
    warnings,
  };
}

export function initCommand(ctx: CliContext): CommandModule<GlobalArgs, InitArgs> {
  return {
    command: 'init',
    describe: 'Create a data dir: node id, vault key, cluster secret, API token',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('join', {
          type: 'string',
          describe: "Reuse another node's secrets (its keys.json, or its data dir)",
          requiresArg: true,
        })
        .option('storage-only', {
          type: 'boolean',
          default: false,
          describe: 'Keep only the cluster secret: store sealed replicas, never plaintext',
        })
        .option('listen', {
          type: 'string',
          describe: `Peer address "serve" will listen on: this machine's address as peers dial it (default ${DEFAULT_LISTEN})`,
          requiresArg: true,
        })
        .example('$0 init --listen 10.0.0.1:7400', 'a new cluster, reachable on 10.0.0.1')
        .example(
          '$0 init --join keys.json',
          'join the cluster keys.json belongs to',
        ) as unknown as Argv<InitArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const res = await initDataDir({
        dir,
        storageOnly: argv.storageOnly,
        ...(argv.listen !== undefined ? { listen: argv.listen } : {}),
        ...(argv.join ? { join: argv.join } : {}),
      });
      if (argv.json) return writeJson(res);
      for (const w of res.warnings) process.stderr.write(`peerstash: warning: ${w}\n`);
      writeLine(`initialised node ${res.nodeId.slice(0, 16)} in ${dir}`);
      writeLine(
        res.storageOnly
          ? 'storage-only: this node keeps sealed replicas and can never read them'
          : `key file: ${res.keyFile} (mode 0600; copy it to another machine and run "peerstash init --join keys.json --listen <its address>:7400" there; for a storage-only machine copy "peerstash keys export --storage-only" instead)`,
      );
      writeLine(`next: peerstash serve --dir ${dir}`);
    },
  };
}
