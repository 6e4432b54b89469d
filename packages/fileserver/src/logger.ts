// The one logger shape every unit of the node takes (pino's), and the node's default logger
// when none is given: pino at 'info' to stderr.

import { pino } from 'pino';

/** pino's shape; any logger with these four methods works. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function defaultLogger(): Logger {
  return pino({ level: 'info' }, pino.destination(2));
}
