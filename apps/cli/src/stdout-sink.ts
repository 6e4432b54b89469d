// Output that may be long (a listing of a million keys): written with backpressure, and a reader
// that went away (`peerstash ls | head`) ends the command quietly, as it ends `ls`.

import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';

/** Thrown when stdout's reader is gone; main() exits 0 without an error line. */
export class OutputClosedError extends CliError {
  constructor(options?: { cause?: unknown }) {
    super('EPIPE', EXIT.OK, 'the reader of the output went away', undefined, options);
    this.name = 'OutputClosedError';
  }
}

export interface Sink {
  /** Writes `text`; resolves once stdout can take more. */
  write(text: string): Promise<void>;
  /** Detaches from stdout. */
  close(): void;
}

export function stdoutSink(out: NodeJS.WriteStream = process.stdout): Sink {
  let broken: unknown;
  let wake: (() => void) | undefined;
  const onError = (err: unknown) => {
    broken = err;
    wake?.();
  };
  out.on('error', onError);
  return {
    async write(text) {
      if (broken !== undefined) throw new OutputClosedError({ cause: broken });
      if (out.write(text)) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        out.once('drain', resolve);
      });
      out.off('drain', wake!);
      wake = undefined;
      if (broken !== undefined) throw new OutputClosedError({ cause: broken });
    },
    close() {
      out.off('error', onError);
      // A late EPIPE after we stopped must not become an uncaught error.
      if (broken !== undefined) out.on('error', () => {});
    },
  };
}
