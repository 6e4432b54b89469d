// A small SVG line chart of throughput in and out over the last readings, with its figures also
// given as text for screen readers.

import { formatRate } from '../format';
import type { Throughput } from './metrics';

const W = 600;
const H = 120;

function line(points: Throughput[], pick: (p: Throughput) => number, max: number, n: number) {
  const step = W / Math.max(1, n - 1);
  const offset = n - points.length;
  return points
    .map(
      (p, i) => `${((offset + i) * step).toFixed(1)},${(H - (pick(p) / max) * (H - 4)).toFixed(1)}`,
    )
    .join(' ');
}

export function ThroughputChart({ points, size }: { points: Throughput[]; size: number }) {
  const max = Math.max(1024, ...points.map((p) => Math.max(p.in, p.out)));
  const last = points[points.length - 1];
  const summary = last
    ? `Now ${formatRate(last.in)} in, ${formatRate(last.out)} out; peak of the chart ${formatRate(max)}`
    : 'Waiting for the first readings';
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} class="axis" />
        {points.length > 1 && (
          <>
            <polyline points={line(points, (p) => p.in, max, size)} class="series-in" />
            <polyline points={line(points, (p) => p.out, max, size)} class="series-out" />
          </>
        )}
      </svg>
      <figcaption>
        <span class="key key-in">In {last ? formatRate(last.in) : '—'}</span>
        <span class="key key-out">Out {last ? formatRate(last.out) : '—'}</span>
        <span class="scale">scale {formatRate(max)}</span>
      </figcaption>
    </figure>
  );
}
