// `peerstash scrub`: has the local node re-read every blob it holds now and waits for the pass;
// rotten copies are dropped by the node and brought back by repair from a sound replica.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv, CommandModule } from 'yargs';
import { ApiClient } from '../api-client.js';
import type { CliContext, GlobalArgs } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { resolveDataDir } from '../data-dir.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';

interface ScrubReport {
  checked: number;
  bytes: number;
  rotten: number;
  dropped: number;
}

const copies = (n: number) => `${n} rotten ${n === 1 ? 'copy' : 'copies'}`;

export function formatScrub(r: ScrubReport): string {
  const kept = r.rotten - r.dropped;
  const found: string[] = [];
  if (r.dropped > 0) {
    found.push(
      `${copies(r.dropped)} dropped; repair brings ${r.dropped === 1 ? 'it' : 'them'} back from peers`,
    );
  }
  if (kept > 0) found.push(`${copies(kept)} kept (no replicas to replace them from)`);
  const blobs = `${r.checked} ${r.checked === 1 ? 'blob' : 'blobs'}`;
  return `checked ${blobs} (${formatBytes(r.bytes)}): ${found.join('; ') || 'all sound'}`;
}

export function scrubCommand(ctx: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'scrub',
    describe: 'Re-read and check every blob the local node holds now (rotten copies are replaced)',
    builder: (y: Argv<GlobalArgs>) => y,
    handler: async (argv) => {
      const dir = resolveDataDir(argv.dir);
      ctx.dir = dir;
      const client = await ApiClient.fromDataDir(dir, { idleTimeoutMs: argv.timeout * 1000 });
      const asked = Date.now();
      await client.expectOk(await client.request('POST', '/v1/scrub'));
      // the pass runs in the node (it may take long on a big store); its end shows in status,
      // asked less and less often so a long pass is not slowed by status walks of the store
      for (let i = 0; ; i++) {
        const st = await client.status();
        const at = typeof st.lastScrubAt === 'number' ? st.lastScrubAt : 0;
        if (st.scrubInProgress === false) {
          if (at < asked || !st.lastScrub) {
            throw new CliError(
              'ERR_SCRUB',
              EXIT.GENERIC,
              'the scrub pass ended without finishing',
              'see the node\'s log ("scrub pass failed"), then try again',
            );
          }
          const report = st.lastScrub as ScrubReport;
          if (argv.json) return writeJson(report);
          writeLine(formatScrub(report));
          return;
        }
        await sleep(Math.min(5000, 200 * 1.5 ** i));
      }
    },
  };
}
