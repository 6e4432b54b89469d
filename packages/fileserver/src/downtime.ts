// The node's last-alive mark: how long it was down before this start (past the tombstone TTL,
// files deleted meanwhile may still be here: the catalog sync quarantines them), refreshed while
// it runs and at stop.

import { BOUNDS } from './config.js';
import { readLastAlive, writeLastAlive } from './data-dir.js';
import type { Logger } from './logger.js';

const DAY_MS = 86_400_000;

export class DowntimeMark {
  readonly #dataDir: string;
  readonly #ttlMs: number;
  readonly #log: Logger;
  #offlineMs: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  #write: Promise<void> | undefined;

  constructor(dataDir: string, tombstoneTtlMs: number, log: Logger) {
    this.#dataDir = dataDir;
    this.#ttlMs = tombstoneTtlMs;
    this.#log = log;
  }

  /** How long the node had been down when it started (null on its first start). */
  get offlineBeforeStartMs(): number | null {
    return this.#offlineMs;
  }

  /**
   * Down longer than the tombstone TTL: deletes made meanwhile may be forgotten by the cluster,
   * so what this node holds of them is quarantined by the catalog sync rather than spread.
   */
  get tombstonesMayBeMissed(): boolean {
    return this.#offlineMs !== null && this.#offlineMs > this.#ttlMs;
  }

  /** Reads the mark left by the last run and warns when the downtime passed the TTL. */
  async note(): Promise<void> {
    const last = await readLastAlive(this.#dataDir);
    this.#offlineMs = last === undefined ? null : Math.max(0, Date.now() - last);
    if (this.tombstonesMayBeMissed) {
      const days = (ms: number) => Math.round((ms / DAY_MS) * 10) / 10;
      this.#log.warn(
        { offlineDays: days(this.#offlineMs!), tombstoneTtlDays: days(this.#ttlMs) },
        'this node was down longer than the tombstone TTL: files it holds that the cluster has ' +
          'forgotten are quarantined (kept, neither listed nor spread) until a peer or an ' +
          'operator confirms them (peerstash quarantine, GET /v1/quarantine)',
      );
    }
  }

  /**
   * Marks the node alive, now and hourly; only once it runs, so a start that fails keeps the
   * downtime it found for the next attempt to report.
   */
  async start(): Promise<void> {
    await writeLastAlive(this.#dataDir).catch((err) =>
      this.#log.warn({ err }, 'could not write the last-alive mark'),
    );
    this.#timer = setInterval(() => {
      this.#write = writeLastAlive(this.#dataDir).catch((err) =>
        this.#log.debug({ err }, 'could not refresh the last-alive mark'),
      );
    }, BOUNDS.aliveEveryMs);
    this.#timer.unref();
  }

  /** Writes the mark a last time (only if it was started: a failed start leaves it as found). */
  async stop(): Promise<void> {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#write;
    await writeLastAlive(this.#dataDir).catch(() => {});
  }
}
