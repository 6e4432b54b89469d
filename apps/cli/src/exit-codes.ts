// Exit codes of the peerstash command, one per kind of failure a person can act on.
// Stable: scripts depend on them, and apps/cli/README.md documents the same table (a test checks).

export const EXIT = {
  OK: 0,
  GENERIC: 1,
  USAGE: 2,
  NODE_NOT_RUNNING: 3,
  NOT_FOUND: 4,
  INTEGRITY: 5,
  PERMISSION: 6,
  NO_SPACE: 7,
  PORT_IN_USE: 8,
  NOT_INITIALISED: 9,
  ALREADY_EXISTS: 10,
  TIMEOUT: 11,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means, as the README's table and `--help` spell it. */
export const EXIT_MEANING: Readonly<Record<ExitCode, string>> = {
  0: 'success',
  1: 'any other error',
  2: 'usage',
  3: 'node not running',
  4: 'not found',
  5: 'integrity',
  6: 'permission denied',
  7: 'no space left',
  8: 'address in use',
  9: 'no data dir',
  10: 'already exists',
  11: 'timed out',
  130: 'interrupted',
};

export const EXIT_HELP = `Exit codes: ${Object.entries(EXIT_MEANING)
  .map(([code, meaning]) => `${code} ${meaning}`)
  .join(', ')}.`;
