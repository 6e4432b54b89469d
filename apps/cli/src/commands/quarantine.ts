// `peerstash quarantine [list|release <key>|drop <key>]`: the records the local node holds back
// (it came back after the tombstone TTL, so files the cluster deleted and forgot may be among
// what it kept): list them, confirm one (it spreads again and wins), or drop one for good.

import type { Argv, CommandModule } from 'yargs';
import { ApiClient, readJson } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { UsageError } from '../errors.js';
import { formatBytes, formatTable, printable } from '../format.js';
import { checkKey, STORED_KEY_HINT } from '../key.js';

export interface QuarantinedRecord {
  key?: string;
  id: string;
  version?: string;
  size: number;
  modified: number;
  quarantinedAt: number;
  reason: string;
}

type Action = 'list' | 'release' | 'drop';

interface QuarantineArgs extends GlobalArgs {
  action: Action;
  key?: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** One row a record: its key (or id on a storage-only node), size, version time, why. */
export function formatQuarantine(records: QuarantinedRecord[]): string {
  if (records.length === 0) return 'nothing held back';
  const rows = records.map((r) => [
    printable(r.key ?? `id:${r.id.slice(0, 16)}`),
    r.version ? formatBytes(r.size) : 'deleted',
    iso(r.modified),
    iso(r.quarantinedAt),
    r.reason,
  ]);
  const n = records.length;
  return `${formatTable(['key', 'size', 'modified', 'held since', 'why'], rows, new Set([1]))}\n${n} ${
    n === 1 ? 'record' : 'records'
  } held back: "peerstash quarantine release <key>" spreads one again, "drop <key>" forgets it`;
}

export function quarantineCommand(ctx: CliContext): CommandModule<GlobalArgs, QuarantineArgs> {
  return {
    command: 'quarantine [action] [key]',
    describe:
      'Files this node held back after a long downtime: list them, release one (spread it again) or drop one',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('action', {
          choices: ['list', 'release', 'drop'] as const,
          default: 'list' as const,
          describe: 'list (default), release <key> or drop <key>',
        })
        .positional('key', { type: 'string', describe: 'The key to release or drop' })
        .check((a) => {
          if (a.action === 'list' && a.key !== undefined) {
            throw new UsageError(
              '"quarantine list" takes no key',
              'see "peerstash quarantine --help"',
            );
          }
          if (a.action !== 'list' && a.key === undefined) {
            throw new UsageError(
              `"quarantine ${a.action}" needs a key`,
              'see "peerstash quarantine list"',
            );
          }
          return true;
        }) as unknown as Argv<QuarantineArgs>,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      if (argv.action === 'list') {
        const { records } = await readJson<{ records: QuarantinedRecord[] }>(
          await client.request('GET', '/v1/quarantine'),
        );
        if (argv.json) return writeJson(records);
        writeLine(formatQuarantine(records));
        return;
      }
      const key = argv.key as string;
      checkKey(key, STORED_KEY_HINT);
      const method = argv.action === 'release' ? 'POST' : 'DELETE';
      const out = await readJson<Record<string, unknown>>(
        await client.request(method, `/v1/quarantine/${encodeURIComponent(key)}`),
      );
      if (argv.json) return writeJson(out);
      writeLine(
        argv.action === 'release'
          ? `released ${printable(key)}: it spreads to the peers again`
          : `dropped ${printable(key)}: this node forgot it`,
      );
    },
  };
}
