// The cluster page: every node this one knows (online or not), this node's storage and disk,
// replication and scrub health, and live throughput from the node's own /metrics.

import { useRef, useState } from 'preact/hooks';
import { ApiError, call, getJson } from '../api';
import { formatAgo, formatBytes, shortId } from '../format';
import { usePoll } from '../hooks';
import { ThroughputChart } from './Chart';
import { parseMetrics, RateHistory, total } from './metrics';
import { clusterRows, type PeerStatus, type SeenNode } from './nodes';

export interface NodeStatus {
  nodeId: string;
  listen: string;
  storageOnly: boolean;
  secure: boolean;
  replicationFactor: number;
  peers: PeerStatus[];
  blobs: number;
  bytes: number;
  keysHeld: number;
  underReplicated: number;
  repairInProgress: boolean;
  lastRepairAt: number | null;
  repairRounds: number;
  repairBytesSent: number;
  lastScrubAt: number | null;
  lastScrub: { checked: number; bytes: number; rotten: number } | null;
  scrubInProgress: boolean;
  scrubRotten: number;
  tombstonesMayBeMissed?: boolean;
  process?: { uptime: number; rss: number };
}

interface NodeInfo {
  disk: { free: number; total: number } | null;
  knownPeers: { id: string; addr: string }[];
}

const STATUS_MS = 2000;
const HISTORY = 60;

export function ClusterPage({ announce }: { announce(message: string): void }) {
  const [status, setStatus] = useState<NodeStatus | null>(null);
  const [info, setInfo] = useState<NodeInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seen = useRef(new Map<string, SeenNode>());
  const history = useRef(new RateHistory(HISTORY));
  const [, setTick] = useState(0);

  usePoll(async () => {
    try {
      setStatus(await getJson<NodeStatus>('/ui/api/v1/status'));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, STATUS_MS);
  usePoll(async () => {
    try {
      const text = await (await call('/ui/api/metrics')).text();
      const s = parseMetrics(text);
      history.current.push(
        Date.now(),
        total(s, 'peerstash_bytes_in_total'),
        total(s, 'peerstash_bytes_out_total'),
      );
      setTick((n) => n + 1);
    } catch {
      // the status poll reports a node that does not answer
    }
  }, STATUS_MS);
  usePoll(async () => {
    try {
      setInfo(await getJson<NodeInfo>('/ui/api/node'));
    } catch {
      // disk and known peers are extras: the page works without them
    }
  }, 10_000);

  const scrub = async () => {
    try {
      await call('/ui/api/v1/scrub', { method: 'POST' });
      announce('Scrub pass started');
    } catch (err) {
      announce(`Could not start a scrub: ${err instanceof ApiError ? err.message : err}`);
    }
  };

  if (!status) {
    return (
      <section aria-labelledby="cluster-title">
        <h1 id="cluster-title">Cluster</h1>
        <p role={error ? 'alert' : 'status'}>{error ?? 'Loading…'}</p>
      </section>
    );
  }
  const rows = clusterRows(status, status.peers, info?.knownPeers ?? [], seen.current, Date.now());
  const online = rows.filter((r) => r.online).length;
  const link = status.secure ? 'TLS-PSK' : 'plain TCP (not encrypted)';
  const lastScrub = status.lastScrub;

  return (
    <section class="cluster" aria-labelledby="cluster-title">
      <h1 id="cluster-title">Cluster</h1>
      {error && (
        <p class="error" role="alert">
          This node stopped answering: {error}
        </p>
      )}
      <p class="summary">
        <span data-testid="nodes-online">
          {online} of {rows.length} nodes online
        </span>{' '}
        · {status.replicationFactor} replicas per file · links {link}
      </p>
      <div class="table-wrap">
        <table class="nodes">
          <caption>Nodes</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Address</th>
              <th scope="col">Role</th>
              <th scope="col" class="num">
                Blobs
              </th>
              <th scope="col" class="num">
                Stored
              </th>
              <th scope="col" class="num">
                Disk free
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} class={`node-row ${r.online ? 'online' : 'offline'}`} data-node={r.id}>
                <th scope="row" title={r.id}>
                  <code>{shortId(r.id)}</code>
                  {r.self && <span class="badge">this node</span>}
                </th>
                <td>
                  <span class={`state ${r.online ? 'ok' : 'bad'}`}>
                    {r.online ? 'Online' : 'Offline'}
                  </span>
                  {!r.online && r.lastSeenAt && (
                    <span class="muted"> · seen {formatAgo(r.lastSeenAt)}</span>
                  )}
                  {r.direction && (
                    <span class="muted">
                      {' '}
                      · {r.direction === 'out' ? 'we dialled' : 'it dialled'}
                    </span>
                  )}
                </td>
                <td>
                  <code>{r.address || '—'}</code>
                </td>
                <td>{r.self ? (status.storageOnly ? 'storage only' : 'vault') : '—'}</td>
                <td class="num">{r.self ? status.blobs : '—'}</td>
                <td class="num">{r.self ? formatBytes(status.bytes) : '—'}</td>
                <td class="num">
                  {r.self && info?.disk
                    ? `${formatBytes(info.disk.free)} of ${formatBytes(info.disk.total)}`
                    : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted small-print">
        Other nodes’ storage figures are shown on their own consoles; this node reports who it is
        linked to.
      </p>

      <h2>Replication health</h2>
      <dl class="facts">
        <div>
          <dt>Keys held here</dt>
          <dd>{status.keysHeld}</dd>
        </div>
        <div>
          <dt>Under-replicated</dt>
          <dd class={status.underReplicated ? 'bad' : 'ok'}>{status.underReplicated}</dd>
        </div>
        <div>
          <dt>Repair</dt>
          <dd>
            {status.repairInProgress ? 'running' : 'idle'} · last round{' '}
            {formatAgo(status.lastRepairAt)} · {status.repairRounds} rounds ·{' '}
            {formatBytes(status.repairBytesSent)} pushed
          </dd>
        </div>
        <div>
          <dt>Scrub</dt>
          <dd>
            {status.scrubInProgress ? 'running' : 'idle'} · last pass{' '}
            {formatAgo(status.lastScrubAt)}
            {lastScrub ? ` · ${lastScrub.checked} checked, ${lastScrub.rotten} rotten` : ''} ·{' '}
            {status.scrubRotten} rotten since start
          </dd>
        </div>
      </dl>
      {status.tombstonesMayBeMissed && (
        <p class="warning" role="alert">
          This node was offline longer than the tombstone lifetime: files deleted meanwhile may come
          back from it.
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={() => void scrub()} disabled={status.scrubInProgress}>
          Scrub now
        </button>
      </div>

      <h2>Throughput of this node</h2>
      <ThroughputChart points={history.current.points} size={HISTORY} />
    </section>
  );
}
