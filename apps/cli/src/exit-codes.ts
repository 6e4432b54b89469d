// Exit codes of the peerstash command, one per kind of failure a person can act on.
// Stable: scripts depend on them, and apps/cli/README.md documents the same table.

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

export const EXIT_HELP =
  'Exit codes: 0 ok, 1 error, 2 usage, 3 node not running, 4 not found, 5 integrity, ' +
  '6 permission, 7 no space, 8 port in use, 9 no data dir, 10 already exists, 11 timeout, ' +
  '130 interrupted.';
