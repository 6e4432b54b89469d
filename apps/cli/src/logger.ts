// The node's structured logger: pino, JSON lines on stdout.
// pino is resolved from this package or, failing that, from @peerstash/fileserver, which depends on it.

import { createRequire } from 'node:module';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  flush?(): void;
}

type PinoFactory = (opts: Record<string, unknown>) => Logger;

function loadPino(): PinoFactory {
  const tryFrom = (base: string): PinoFactory | undefined => {
    try {
      const mod = createRequire(base)('pino') as PinoFactory | { default?: PinoFactory };
      return typeof mod === 'function' ? mod : mod.default;
    } catch {
      return undefined;
    }
  };
  const own = tryFrom(import.meta.url);
  if (own) return own;
  const viaServer = tryFrom(import.meta.resolve('@peerstash/fileserver'));
  if (viaServer) return viaServer;
  throw new Error('cannot load pino (install it beside @peerstash/cli)');
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  const pino = loadPino();
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
