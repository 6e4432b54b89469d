// `peerstash status`: what the local node reports about itself (id, addresses, peers, blobs, bytes).

import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { formatBytes, formatDuration } from '../format.js';
import { loopbackWarning, unreachableFrom } from '../loopback.js';

function peerLine(p: unknown): string {
  if (typeof p !== 'object' || p === null) return String(p);
  const o = p as Record<string, unknown>;
  const id = typeof o.id === 'string' ? o.id.slice(0, 16) : '?';
  const addr = o.listenAddr ?? o.address ?? o.remoteAddr ?? '';
  return `${id} ${String(addr)}${o.outbound === undefined ? '' : o.outbound ? ' (out)' : ' (in)'}`;
}

/** "last round 4.2 s ago" or "no round yet". */
function lastTime(at: unknown, what: string): string {
  return typeof at === 'number'
    ? `last ${what} ${formatDuration(Date.now() - at)} ago`
    : `no ${what} yet`;
}

export function formatStatus(st: Record<string, unknown>, dir: string, api: string): string {
  const lines: string[] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') lines.push(`${k.padEnd(10)} ${String(v)}`);
  };
  add('node', st.nodeId ?? st.id);
  add('data dir', dir);
  add('listen', st.listen ?? st.listenAddr ?? st.address);
  add('advertise', st.advertise);
  add('api', api);
  if (st.storageOnly !== undefined) {
    add(
      'mode',
      st.storageOnly ? 'storage-only (sealed replicas only)' : 'vault (reads and writes files)',
    );
  }
  if (st.secure !== undefined) {
    add('links', st.secure ? 'TLS-PSK (cluster secret)' : 'plain TCP, no authentication');
  }
  add('replicas', st.replicationFactor);
  const blobs = st.blobs ?? st.blobCount;
  add('blobs', blobs);
  if (typeof st.bytes === 'number') add('bytes', formatBytes(st.bytes));
  if (typeof st.keysHeld === 'number') {
    const last = lastTime(st.lastRepairAt, 'round');
    add(
      'repair',
      `${st.keysHeld} ${st.keysHeld === 1 ? 'key' : 'keys'} held, ${String(st.underReplicated ?? 0)} under-replicated, ${
        st.repairInProgress ? 'repairing' : 'idle'
      }, ${last}${typeof st.repairBytesSent === 'number' ? `, ${formatBytes(st.repairBytesSent)} sent` : ''}`,
    );
  }
  if (typeof st.scrubRotten === 'number') {
    const last = lastTime(st.lastScrubAt, 'pass');
    add(
      'scrub',
      `${last}, ${st.scrubRotten} rotten ${st.scrubRotten === 1 ? 'copy' : 'copies'} found`,
    );
  }
  if (st.tombstonesMayBeMissed === true) {
    const down =
      typeof st.offlineBeforeStartMs === 'number'
        ? `down ${formatDuration(st.offlineBeforeStartMs)} before this start`
        : 'down long before this start';
    add(
      'warning',
      `${down}, longer than the tombstone TTL: files deleted meanwhile are held back here, not listed or spread (see "peerstash quarantine")`,
    );
  }
  if (Array.isArray(st.warnings)) {
    for (const w of st.warnings as unknown[]) {
      const text = typeof w === 'object' && w !== null ? (w as { message?: unknown }).message : w;
      if (typeof text === 'string' && text) add('warning', text);
    }
  } else if (typeof (st.advertise ?? st.listen) === 'string' && Array.isArray(st.peers)) {
    // A node from before `warnings`: the same loopback check, made here from what it lists.
    const listen = String(st.advertise ?? st.listen);
    const seen = (st.peers as Array<Record<string, unknown>>).flatMap((p) =>
      [p.listenAddr, p.remoteAddr].filter((a): a is string => typeof a === 'string'),
    );
    const outside = unreachableFrom(listen, seen);
    if (outside.length > 0) add('warning', loopbackWarning(listen, outside));
  }
  const proc = st.process as { pid?: number; rss?: number; uptime?: number } | undefined;
  if (proc && typeof proc.pid === 'number') {
    const up = typeof proc.uptime === 'number' ? `, up ${formatDuration(proc.uptime * 1000)}` : '';
    const rss = typeof proc.rss === 'number' ? `, RSS ${formatBytes(proc.rss)}` : '';
    add('process', `pid ${proc.pid}${up}${rss}`);
  }
  const peers = st.peers;
  if (Array.isArray(peers)) {
    add('peers', peers.length);
    for (const p of peers) lines.push(`  ${peerLine(p)}`);
  } else {
    add('peers', peers);
  }
  return lines.join('\n');
}

export function statusCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'status',
    describe: "Show the local node's id, addresses, peers and storage",
    builder: (y: Argv<GlobalArgs>) => y,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const st = await client.status();
      if (argv.json) return writeJson(st);
      writeLine(formatStatus(st, dir, client.address));
    },
  };
}
