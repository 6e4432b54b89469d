// A 3-node cluster whose first node serves the S3 and restic gateways, and one access key.
// Reuses the cluster suite's process harness and the gateway package's client drivers.
import { type NodeProc, runCli, startCluster, waitFor } from '../../cluster/test/harness.js';

export interface GatewayCluster {
  nodes: NodeProc[];
  s3: string;
  restic: string;
  key: { accessKeyId: string; secretAccessKey: string };
}

export async function startGatewayCluster(extraArgs: string[] = []): Promise<GatewayCluster> {
  const nodes = await startCluster(3, {
    replicas: 2,
    extraArgs: ['--s3-listen', '127.0.0.1:0', '--restic-listen', '127.0.0.1:0', ...extraArgs],
  });
  const r = await runCli(['s3', 'keys', 'add', '--dir', nodes[0]!.dir, '--json']);
  if (r.code !== 0) throw new Error(`s3 keys add failed (${r.code}): ${r.stderr}`);
  const key = JSON.parse(r.stdout) as GatewayCluster['key'];
  const gw = await gatewaysOf(nodes[0]!);
  if (!gw.s3 || !gw.restic) throw new Error(`no gateways in status: ${JSON.stringify(gw)}`);
  return { nodes, s3: gw.s3, restic: gw.restic, key };
}

/**
 * The gateway URLs a node's status names. They start after the node's API answers, so this
 * polls until the status names at least one of them.
 */
export async function gatewaysOf(node: NodeProc): Promise<{ s3?: string; restic?: string }> {
  let gw: { s3?: string; restic?: string } = {};
  await waitFor(
    'gateways in status',
    async () => {
      gw = ((await node.status()).gateways ?? {}) as typeof gw;
      return gw.s3 !== undefined || gw.restic !== undefined;
    },
    20_000,
  );
  return gw;
}

/** The restic repository URL of `repo` with the key as basic auth. */
export function resticRepo(c: GatewayCluster, repo: string): string {
  const u = new URL(c.restic);
  u.username = c.key.accessKeyId;
  u.password = c.key.secretAccessKey;
  u.pathname = `/${repo}/`;
  return `rest:${u.toString()}`;
}
