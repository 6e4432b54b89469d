// Collects each scenario's figures into .results/, from which scripts/report.mjs writes
// docs/reliability.md; the report is generated, never edited by hand.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '.results');

export interface ScenarioFigures {
  scenario: string;
  filesPut: number;
  faultsInjected: number;
  filesLost: number;
  peakRssMiB: number;
  durationS: number;
  notes?: string;
}

export async function record(fig: ScenarioFigures): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const safe = fig.scenario.replace(/[^a-z0-9-]+/gi, '-').toLowerCase();
  await writeFile(join(resultsDir, `${safe}.json`), `${JSON.stringify(fig, null, 2)}\n`);
}
