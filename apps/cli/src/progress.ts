// Transfer progress: a cli-progress bar (size, rate, ETA) on an interactive terminal, nothing otherwise.
// Counting happens in a pass-through Transform so bytes keep their backpressure.

import { Transform } from 'node:stream';
import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';

export interface Progress {
  /** Pass-through stream that counts bytes. */
  readonly counter: Transform;
  stop(): void;
}

/** True when a person is watching: both stdout and stderr are terminals. */
export function isInteractive(): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

export function createProgress(
  label: string,
  total: number | undefined,
  enabled: boolean,
): Progress {
  let bar: cliProgress.SingleBar | undefined;
  if (enabled) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        format: (options, params, payload: { rate: string }) => {
          const size = total === undefined ? '' : `/${formatBytes(params.total)}`;
          const bar =
            total === undefined ? '' : `${cliProgress.Format.BarFormat(params.progress, options)} `;
          const eta =
            total === undefined || !Number.isFinite(params.eta) ? '' : ` ETA ${params.eta}s`;
          return `${label} ${bar}${formatBytes(params.value)}${size} ${payload.rate}${eta}`;
        },
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: '' });
  }
  let done = 0;
  const t0 = Date.now();
  const counter = new Transform({
    // Larger than the 16 KiB default: fewer pauses between disk and socket at full speed.
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      if (bar) {
        const secs = (Date.now() - t0) / 1000;
        bar.update(done, { rate: secs > 0 ? `${formatBytes(done / secs)}/s` : '' });
      }
      cb(null, chunk);
    },
  });
  return {
    counter,
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
