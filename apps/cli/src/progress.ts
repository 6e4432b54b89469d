// Transfer progress: a cli-progress bar (size, rate, ETA) on an interactive terminal, nothing otherwise.
// Counting happens in pass-through Transforms so bytes keep their backpressure; one bar can count many.

import { Transform } from 'node:stream';
import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';
import { RateMeter } from './rate-meter.js';

export interface Progress {
  /** Pass-through stream that counts bytes. */
  readonly counter: Transform;
  stop(): void;
}

/** One bar over many transfers (`put -r`, `get -r`): total bytes, and files done of how many. */
export interface SharedProgress {
  /** A new pass-through stream counting into the bar (and into `onBytes`); one per transfer. */
  counter(onBytes?: (n: number) => void): Transform;
  /** Bytes that count as done without moving (a skipped file). */
  advance(bytes: number): void;
  /** One more file finished (uploaded, skipped or failed). */
  fileDone(): void;
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
  const shared = createSharedProgress(label, total, enabled);
  return { counter: shared.counter(), stop: () => shared.stop() };
}

export function createSharedProgress(
  label: string,
  total: number | undefined,
  enabled: boolean,
  files?: number,
): SharedProgress {
  let bar: cliProgress.SingleBar | undefined;
  let filesDone = 0;
  if (enabled) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        // Rate and ETA come from a RateMeter: cli-progress's own ETA is taken over its last
        // etaBuffer updates, a tenth of a second at disk speed, and swung with every burst (2x).
        format: (options, params, payload: { rate: string; eta: string; files: string }) => {
          const size = total === undefined ? '' : `/${formatBytes(params.total)}`;
          const bar =
            total === undefined ? '' : `${cliProgress.Format.BarFormat(params.progress, options)} `;
          return `${label} ${bar}${formatBytes(params.value)}${size}${payload.files} ${payload.rate}${payload.eta}`;
        },
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: '', eta: '', files: '' });
  }
  let done = 0;
  const meter = new RateMeter();
  const show = () => {
    if (!bar) return;
    meter.update(done, performance.now());
    const rate = meter.rate();
    const eta = meter.eta(total);
    bar.update(done, {
      rate: rate === undefined ? '' : `${formatBytes(rate)}/s`,
      eta: eta === undefined ? '' : ` ETA ${eta}s`,
      files: files === undefined ? '' : `, ${filesDone}/${files} files`,
    });
  };
  return {
    counter: (onBytes) =>
      new Transform({
        // Larger than the 16 KiB default: fewer pauses between disk and socket at full speed.
        highWaterMark: 1024 * 1024,
        transform(chunk: Buffer, _enc, cb) {
          done += chunk.length;
          onBytes?.(chunk.length);
          show();
          cb(null, chunk);
        },
      }),
    advance(bytes) {
      done += bytes;
      show();
    },
    fileDone() {
      filesDone++;
      show();
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
