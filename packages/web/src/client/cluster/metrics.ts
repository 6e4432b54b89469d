// Reads the node's Prometheus text (/metrics) and turns its byte counters into rates over time
// for the throughput chart.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a text exposition; comments and lines it cannot read are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** The sum of every series of one metric, optionally only where `label` has `value`. */
export function total(samples: Sample[], name: string, label?: string, value?: string): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (label !== undefined && s.labels[label] !== value) continue;
    sum += s.value;
  }
  return sum;
}

export interface Throughput {
  at: number;
  /** Bytes per second since the previous reading. */
  in: number;
  out: number;
}

/** Keeps the last `size` rates computed from successive counter readings. */
export class RateHistory {
  readonly size: number;
  readonly points: Throughput[] = [];
  #last: { at: number; in: number; out: number } | undefined;

  constructor(size = 60) {
    this.size = size;
  }

  /** Adds a reading of the two byte counters; a counter that went down (a restart) starts over. */
  push(at: number, bytesIn: number, bytesOut: number): void {
    const last = this.#last;
    this.#last = { at, in: bytesIn, out: bytesOut };
    if (!last || at <= last.at || bytesIn < last.in || bytesOut < last.out) return;
    const dt = (at - last.at) / 1000;
    this.points.push({ at, in: (bytesIn - last.in) / dt, out: (bytesOut - last.out) / dt });
    if (this.points.length > this.size) this.points.splice(0, this.points.length - this.size);
  }
}
