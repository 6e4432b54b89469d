// The exit-code table of apps/cli/README.md is the contract scripts read: it must list exactly the
// codes of src/exit-codes.ts, each with the meaning `--help` prints.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_MEANING } from '../src/exit-codes.js';
import { runCli } from './helpers.js';

async function readmeTable(): Promise<Array<{ code: number; meaning: string; example: string }>> {
  const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('Exit codes'));
  expect(section, 'README has an "## Exit codes" section').toBeDefined();
  return section!
    .split('\n')
    .map((line) => /^\|\s*(\d+)\s*\|([^|]*)\|(.*)\|\s*$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ code: Number(m[1]), meaning: m[2]!.trim(), example: m[3]!.trim() }));
}

describe('exit codes', () => {
  it('the README table lists every code of the CLI, once, with its meaning', async () => {
    const rows = await readmeTable();
    expect(rows.map((r) => r.code)).toEqual(Object.values(EXIT));
    for (const r of rows) {
      expect(r.meaning, `exit ${r.code}`).toBe(EXIT_MEANING[r.code as keyof typeof EXIT_MEANING]);
      if (r.code !== EXIT.OK) expect(r.example, `exit ${r.code} has an example`).not.toBe('');
    }
  });

  it('--help prints the same codes and meanings', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const [code, meaning] of Object.entries(EXIT_MEANING)) {
      expect(help).toContain(`${code} ${meaning}`);
    }
  });
});
