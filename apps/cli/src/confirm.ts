// Asks a person a yes/no question on the terminal before something that cannot be undone.
// Only on a terminal: a script must say --yes, so a missing answer never reads as consent.

import { createInterface } from 'node:readline/promises';

/** True when a person can answer: stdin is a terminal. */
export function canAsk(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** Prints `question [y/N] ` on stderr; true only for y or yes. */
export async function askYesNo(question: string, signal?: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `, signal ? { signal } : {});
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
