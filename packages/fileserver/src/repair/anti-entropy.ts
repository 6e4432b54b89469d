// Anti-entropy repair rounds: periodically (and soon after a peer joins or leaves) the node syncs
// with each live peer (sync.ts) and hands off surplus copies (hand-off.ts), one round at a time.
// Works on sealed blobs only, so storage-only nodes take part.

import { BOUNDS } from '../config.js';
import { errorCode } from '../errors.js';
import { answerRepair } from './answer.js';
import { catalogRound } from './catalog-round.js';
import { mapLimit, type RepairComponents } from './components.js';
import { handOff } from './hand-off.js';
import { Holdings } from './holdings.js';
import { RepairPusher } from './push.js';
import { type RoundState, syncPair } from './sync.js';

export interface RepairStatus {
  keysHeld: number;
  underReplicated: number;
  repairInProgress: boolean;
  lastRepairAt: number | null;
  /** Blob bytes this node pushed for repair. */
  repairBytesSent: number;
  /** Summary and holdings-query bytes this node sent and received. */
  repairSummaryBytes: number;
  repairRounds: number;
}

export class AntiEntropy {
  readonly #c: RepairComponents;
  readonly #holdings: Holdings;
  readonly #pusher: RepairPusher;
  #timer: NodeJS.Timeout | undefined;
  #poke: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lacking = new Set<string>();
  /** Gaps left to another holder (peer/ns/id → when first seen); filled here if still open later. */
  #deferred = new Map<string, number>();
  /** Work was left over (gaps, a peer cut short): the next round comes soon, not a full interval on. */
  #unfinished = false;
  #lastAt: number | null = null;
  #rounds = 0;
  /** The holdings walk after an unclean stop: rounds wait for it (they read the holdings). */
  #walked: Promise<void> = Promise.resolve();

  /** Also registers the handlers of the repair messages peers send. */
  constructor(components: RepairComponents) {
    this.#c = components;
    this.#holdings = new Holdings(components);
    this.#pusher = new RepairPusher(components);
    answerRepair(components, this.#holdings);
  }

  get #intervalMs(): number {
    return this.#c.config.repair.intervalMs;
  }

  /** Starts the timer; `walked`: the holdings walk the first round waits for. */
  start(walked: Promise<void> = Promise.resolve()): void {
    this.#walked = walked;
    this.#schedule(this.#intervalMs);
  }

  /**
   * Stops scheduling rounds; the promise settles when the round in flight has ended (the node
   * fails its pending requests first, so that does not wait for peer timeouts).
   */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poke) clearTimeout(this.#poke);
    return this.#round?.catch(() => {}) ?? Promise.resolve();
  }

  /** Keys held now, from the last index when it is still current (see Holdings.keysHeldNow). */
  keysHeldNow(): number | undefined {
    return this.#holdings.keysHeldNow();
  }

  status(): RepairStatus {
    return {
      keysHeld: this.#holdings.keysHeld,
      underReplicated: this.#lacking.size,
      repairInProgress: this.#round !== undefined,
      lastRepairAt: this.#lastAt,
      repairBytesSent: this.#c.tally.bytesSent,
      repairSummaryBytes: this.#c.tally.summaryBytes,
      repairRounds: this.#rounds,
    };
  }

  /** A peer joined or left: run a round soon (debounced, since meshing brings several events). */
  peersChanged(): void {
    if (this.#stopped || this.#poke || this.#intervalMs === 0) return;
    this.#poke = setTimeout(
      () => {
        this.#poke = undefined;
        void this.runRound();
      },
      Math.min(BOUNDS.repairSoonMs, this.#intervalMs),
    );
    this.#poke.unref();
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#intervalMs === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.runRound(), ms);
    this.#timer.unref();
  }

  /** Runs one round now (or right after the one in progress); resolves when it is done. */
  runRound(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#round) {
      this.#again = true;
      return this.#round;
    }
    const round = this.#runRound()
      .catch((err) => {
        if (this.#c.live()) this.#c.log.warn({ code: errorCode(err), err }, 'repair round failed');
      })
      .finally(() => {
        this.#round = undefined;
        this.#lastAt = Date.now();
        this.#rounds++;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.runRound();
        } else {
          const soon = Math.min(this.#intervalMs, BOUNDS.repairSoonMs);
          this.#schedule(this.#unfinished ? soon : this.#intervalMs);
        }
      });
    this.#round = round;
    return round;
  }

  async #runRound(): Promise<void> {
    const c = this.#c;
    const started = performance.now();
    const sentBefore = c.tally.bytesSent;
    await this.#walked;
    // records first: which version of a file wins decides which blob a pair compares and pushes
    const catalog = await catalogRound(c);
    const idx = await this.#holdings.index(true);
    const indexMs = performance.now() - started;
    const round: RoundState = {
      lacking: new Set(),
      deferredBefore: this.#deferred,
      deferred: new Map(),
    };
    this.#deferred = round.deferred;
    let cut = false;
    const peers = idx.members.filter((p) => p !== c.nodeId);
    await mapLimit(peers, BOUNDS.repairConcurrentPeers, async (peer) => {
      for (const [ns, set] of idx.pairs.get(peer) ?? []) {
        if (!c.live() || this.#stopped) return;
        try {
          await syncPair(c, this.#pusher, peer, ns, idx, set, round);
        } catch (err) {
          cut = true;
          c.log.info({ peer, code: errorCode(err) }, 'repair with peer cut short');
        }
      }
    });
    await handOff(c, this.#pusher, idx, round.lacking, () => this.#stopped);
    this.#lacking = round.lacking;
    // gaps left to another holder do not hurry the next round: that holder is filling them now
    this.#unfinished = cut || round.lacking.size > 0 || catalog.failed.length > 0;
    c.log.debug(
      {
        held: idx.keysHeld,
        lacking: round.lacking.size,
        pushed: c.tally.bytesSent - sentBefore,
        indexMs: Math.round(indexMs),
        ms: Math.round(performance.now() - started),
      },
      'repair round done',
    );
  }
}
