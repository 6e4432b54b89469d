// Prometheus metrics of one file server, kept in its own prom-client Registry (never the global
// one) so several servers can live in one process, each with its own /metrics.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  bytesIn: Counter<'via'>;
  bytesOut: Counter<'via'>;
  puts: Counter<'result'>;
  gets: Counter<'source'>;
  deletes: Counter<'scope'>;
  integrityFailures: Counter<'source'>;
  replicasAcked: Counter;
  replicaFailures: Counter;
  peerCount: Gauge;
  transferDuration: Histogram<'op'>;
}

/**
 * prom-client's defaults include gauges named `…_total` (`nodejs_active_handles_total`,
 * `…_requests_total`, `…_resources_total`), which break the naming rule that `_total` marks a
 * counter (`promtool check metrics` fails on them; prom-client issue #283 proposes deleting them).
 * Each only sums its per-type gauge kept beside it: `sum(peerstash_nodejs_active_handles)`.
 */
function dropTotalGauges(registry: Registry): void {
  for (const { name, type } of registry.getMetricsAsArray()) {
    if (String(type) === 'gauge' && name.endsWith('_total')) registry.removeSingleMetric(name);
  }
}

/**
 * Builds the metric set; `peers` is read at scrape time so the gauge is never stale.
 * `processMetrics` adds prom-client's default process metrics (CPU, RSS, event-loop lag).
 */
export function createMetrics(peers: () => number, processMetrics = true): ServerMetrics {
  const registry = new Registry();
  if (processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'peerstash_' });
    dropTotalGauges(registry);
  }
  const registers = [registry];
  return {
    registry,
    bytesIn: new Counter({
      name: 'peerstash_bytes_in_total',
      help: 'Bytes received: plaintext from API clients (via=api) and sealed blobs from peers (via=peer)',
      labelNames: ['via'],
      registers,
    }),
    bytesOut: new Counter({
      name: 'peerstash_bytes_out_total',
      help: 'Bytes sent: plaintext to API clients (via=api), sealed blobs to peers (via=peer) and chain replicas passed on (via=forward)',
      labelNames: ['via'],
      registers,
    }),
    puts: new Counter({
      name: 'peerstash_puts_total',
      help: 'Files stored through this node',
      labelNames: ['result'],
      registers,
    }),
    gets: new Counter({
      name: 'peerstash_gets_total',
      help: 'Files read through this node, by where the blob came from',
      labelNames: ['source'],
      registers,
    }),
    deletes: new Counter({
      name: 'peerstash_deletes_total',
      help: 'Delete requests handled, local or from peers',
      labelNames: ['scope'],
      registers,
    }),
    integrityFailures: new Counter({
      name: 'peerstash_integrity_failures_total',
      help: 'Blobs that failed verification (digest or HMAC), by where they came from',
      labelNames: ['source'],
      registers,
    }),
    replicasAcked: new Counter({
      name: 'peerstash_replicas_acked_total',
      help: 'Replica writes acknowledged by peers',
      registers,
    }),
    replicaFailures: new Counter({
      name: 'peerstash_replica_failures_total',
      help: 'Replica writes that failed or timed out',
      registers,
    }),
    peerCount: new Gauge({
      name: 'peerstash_peers',
      help: 'Connected peers',
      registers,
      collect() {
        this.set(peers());
      },
    }),
    transferDuration: new Histogram({
      name: 'peerstash_transfer_duration_seconds',
      help: 'Duration of stores, gets, replica pushes and peer fetches',
      labelNames: ['op'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
  };
}
